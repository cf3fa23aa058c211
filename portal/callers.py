"""Who is acting: one shape for a person in the dashboard, an API key, an OAuth token, a command.

Services take a ``Caller`` so that the same rules (organization, scopes, what may be granted) hold
whether a key is made in the dashboard, through the API, in the admin or by a command.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.apps import apps
from django.conf import settings

from portal import scopes as scope_registry


def organization_model() -> type:
    """The model named by ``settings.PORTAL_ORGANIZATION_MODEL`` (as ``get_user_model`` does for people): the core
    knows organizations only by their id and this name."""
    return apps.get_model(settings.PORTAL_ORGANIZATION_MODEL, require_ready=False)


@dataclass(frozen=True)
class Caller:
    """``organization`` is loaded on first use: authentication on the hot path knows only its id, and an
    endpoint such as ``/hello`` never needs more."""

    auth_type: str  # "api_key", "oauth2", "session", "dashboard" or "system"
    organization_id: int
    scopes: frozenset[str]
    user: Any = None
    role: str | None = None
    credential: Any = None  # the ApiKey, for a key (an OAuth caller is its client and user)
    client: Any = None  # the OAuth client, for OAuth tokens
    expires_at: datetime | None = None
    rate_limit_per_minute: int | None = None
    loaded_organization: Any = field(default=None, repr=False, compare=False)

    @property
    def organization(self) -> Any:
        if self.loaded_organization is None:
            object.__setattr__(self, "loaded_organization",
                               organization_model().objects.get(pk=self.organization_id))
        return self.loaded_organization

    @classmethod
    def system(cls, organization: Any, actor: Any = None) -> Caller:
        """Staff in the admin, or a management command: every scope."""
        return cls(auth_type="system", organization_id=organization.pk, loaded_organization=organization,
                   user=actor, scopes=frozenset(scope_registry.registry()))

    @property
    def application(self) -> Any:
        """The developer application behind the credential (loaded on first use), if any."""
        if self.client is not None:
            return self.client.application
        if self.auth_type == "api_key":
            return self.credential.application
        return None

    @property
    def audit_actor(self) -> Any:
        """What the audit log names as the actor: the credential if there is one, else the person.

        An OAuth access token (DOT's model, which knows nothing of the audit log) is named by its client,
        with the person it acts for."""
        if self.auth_type == "oauth2" and self.client is not None:
            return OAuthTokenActor(self.client, self.user)
        return self.credential if self.credential is not None else self.user

    @property
    def person(self) -> Any:
        """The human behind the call, if any (a key made by a command has none)."""
        return self.user

    def missing_scopes(self, required: list[str]) -> list[str]:
        return scope_registry.missing(self.scopes, required)


class OAuthTokenActor:
    """An OAuth access token as an audit actor: its client, and the person it acts for (if any)."""

    audit_actor_type = "oauth_client"

    def __init__(self, client: Any, user: Any = None) -> None:
        self.client, self.audit_actor_user = client, user

    @property
    def audit_actor_id(self) -> str:
        return self.client.client_id

    def __str__(self) -> str:
        return f"{self.client} (OAuth)" + (f" for {self.audit_actor_user}" if self.audit_actor_user else "")
