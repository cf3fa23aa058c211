"""Domain events: what happened to an organization's objects, published by the service that changed them.

A service calls ``publish(...)`` inside its own transaction, after the change. Listeners (the ``webhooks``
app writes its event row) run in that same transaction, so a change that rolls back publishes nothing, and
whatever they hand to the worker is enqueued only on commit. The core names the event types and knows no
listener: apps connect to ``event_published``.

``data`` is the object as the API's GET shows it and never holds a secret. It may be given as a callable, so
that an organization without any listener interested (no webhook endpoint) pays for no serialisation.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.cache import cache
from django.dispatch import Signal
from django.utils import timezone

from portal.callers import Caller

EVENT_TYPES: dict[str, str] = {
    "api_key.created": "An API key was made",
    "api_key.rotated": "An API key was rotated (data: the new key; rotatedKeyId names the old one)",
    "api_key.revoked": "An API key was revoked",
    "api_key.expiring": "An API key expires in 7 days, or in 1 day",
    "api_key.expired": "An API key has expired",
    "api_key.leaked": "An API key was reported leaked and revoked",
    "oauth_client.created": "An OAuth client was made",
    "oauth_client.secret_rotated": "An OAuth client's secret was rotated",
    "oauth_client.deleted": "An OAuth client was deleted",
    "member.added": "Someone joined the organization",
    "member.removed": "A member left or was removed",
    "member.role_changed": "A member's role changed",
    "rate_limit.exceeded": "A credential was refused for its rate limit (the first time in an hour)",
    "webhook.test": "A test event sent from the dashboard or the API",
}


class UnknownEventType(ValueError):
    pass


@dataclass
class Event:
    organization_id: int
    type: str
    occurred_at: Any = field(default_factory=timezone.now)
    _data: Mapping[str, Any] | Callable[[], Mapping[str, Any]] = field(default_factory=dict, repr=False)

    @property
    def data(self) -> dict[str, Any]:
        """Built once, on first use (a listener that has nobody to tell never asks)."""
        if callable(self._data):
            self._data = self._data()
        return dict(self._data)


def api_shape(serializer_class: type) -> Callable[[Any], dict[str, Any]]:
    """``shape(obj) -> dict``: ``serializer_class``'s representation of ``obj``, from one serializer instance
    made once (building a DRF serializer's fields costs more than using them, and an event is on the path of the
    request that causes it)."""
    instance: list[Any] = []

    def shape(obj: Any) -> dict[str, Any]:
        if not instance:
            instance.append(serializer_class())
        return dict(instance[0].to_representation(obj))

    return shape


#: ``sender`` is the event type; ``event`` the ``Event``.
event_published = Signal()


def publish(organization_id: int, event_type: str,
            data: Mapping[str, Any] | Callable[[], Mapping[str, Any]]) -> Event:
    """Publish one event of ``organization_id``. Call inside the transaction of the change it describes."""
    if event_type not in EVENT_TYPES:
        raise UnknownEventType(event_type)
    event = Event(organization_id=organization_id, type=event_type, _data=data)
    event_published.send(sender=event_type, event=event)
    return event


RATE_LIMIT_EVENT_SECONDS = 3600


def observe_rate_limited(request: Any, response: Any, started_at: float, duration: float) -> None:
    """The API observer (``portal.api.observe``, registered by ``portal.apps``) that turns a credential's 429 into
    ``rate_limit.exceeded``: the limit and its reset are the headers the 429 carries. Any other response costs a
    comparison."""
    if response.status_code != 429:
        return
    caller = getattr(request, "auth", None)
    limit, reset_at = response.get("X-RateLimit-Limit"), response.get("X-RateLimit-Reset")
    if isinstance(caller, Caller) and limit and reset_at:  # not a refused credential's 429 (counted per IP)
        publish_rate_limited(caller, limit=int(limit), reset_at=reset_at)


def publish_rate_limited(caller: Any, *, limit: int, reset_at: str) -> None:
    """``rate_limit.exceeded`` for the first 429 of a credential in an hour. Runs only on a refused request
    (one cache round trip to keep it to one an hour), never on the path of a request that gets through."""
    if caller.auth_type == "api_key" and caller.credential is not None:
        data = {"apiKeyId": caller.credential.public_id}
    elif caller.auth_type == "oauth2" and caller.client is not None:
        data = {"oauthClientId": caller.client.pk}
    else:
        return  # a person's session is not a credential with a limit of its own
    name, value = next(iter(data.items()))
    try:
        if not cache.add(f"event:rate_limited:{name}:{value}", 1, RATE_LIMIT_EVENT_SECONDS):
            return
        publish(caller.organization_id, "rate_limit.exceeded", {**data, "limit": limit, "resetAt": reset_at})
    except Exception:  # a refused request must still get its 429, whatever the cache or the outbox does
        logging.getLogger(__name__).warning("Could not publish rate_limit.exceeded", exc_info=True)
