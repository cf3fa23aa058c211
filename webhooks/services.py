"""Every write to webhook endpoints and deliveries, and the worker's side of the outbox.

Management services take the ``caller`` and need ``webhooks:write`` (a dashboard viewer has only read); making an
endpoint, pointing it elsewhere, turning it on or rotating its secret also needs the person behind the caller to
have verified their address (contract section 11). Each audits itself in its transaction. A request records an
event as one row (``webhooks.outbox``); the sweep (``deliver_due``, asked for on commit and run on a schedule) fans
each new event out into a delivery per endpoint (``event_fan_out``) and hands the worker every delivery that is due
(``delivery_attempt``), so whatever a lost message or a dead worker left pending is found again, nothing is lost
and nothing is sent twice for one attempt (a worker takes a delivery with ``portal.outboxes.claim`` before it sends).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.verification import require_verified_email
from audit.services import audit_record
from portal import outboxes
from portal.callers import Caller
from portal.conf import portal_settings
from portal.encryption import decrypt, encrypt
from portal.events import EVENT_TYPES
from webhooks import signing, transport
from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent

logger = logging.getLogger(__name__)

WRITE_SCOPE = "webhooks:write"
MAX_ENDPOINTS_PER_ORGANIZATION = 20


def _require_write(caller: Caller) -> int:
    """The organization whose webhooks ``caller`` may manage: its own, with the write scope."""
    if caller.missing_scopes([WRITE_SCOPE]):
        raise PermissionDenied("Your role does not allow managing webhooks.")
    if caller.organization_id is None:  # a caller outside every organization has no webhooks
        raise PermissionDenied("Webhooks belong to an organization.")
    return caller.organization_id


def clean_event_types(values: list[str] | None) -> list[str]:
    values = [str(v).strip() for v in (values if values is not None else ["*"])]
    if not values:
        raise ValidationError({"event_types": ['Choose at least one event type, or ["*"] for all.']})
    if "*" in values:
        return ["*"]
    unknown = sorted(set(values) - set(EVENT_TYPES))
    if unknown:
        raise ValidationError({"event_types": [f"Unknown event type: {name}." for name in unknown]})
    return [name for name in EVENT_TYPES if name in values]


def clean_url(url: str) -> str:
    url = (url or "").strip()
    if not url or len(url) > 2000:
        raise ValidationError({"url": ["Enter a URL of at most 2000 characters."]})
    try:
        transport.check_url(url)
    except transport.RefusedTarget as refused:
        raise ValidationError({"url": [str(refused)]}) from None
    return url


def _clean_description(description: str | None) -> str | None:
    if description is None:
        return None
    if len(description) > 500:
        raise ValidationError({"description": ["Use at most 500 characters."]})
    return description.strip()


@transaction.atomic
def webhook_endpoint_create(*, caller: Caller, url: str, description: str = "", event_types: list[str] | None = None,
                            enabled: bool = True) -> tuple[WebhookEndpoint, str]:
    """Register an endpoint. Returns ``(endpoint, secret)``: the signing secret is shown this once."""
    organization_id = _require_write(caller)
    require_verified_email(caller, "a webhook endpoint")
    fields = {"url": clean_url(url), "description": _clean_description(description) or "",
              "event_types": clean_event_types(event_types), "enabled": bool(enabled)}
    if WebhookEndpoint.objects.filter(organization_id=organization_id).count() >= MAX_ENDPOINTS_PER_ORGANIZATION:
        raise ValidationError({"url": [f"An organization has at most {MAX_ENDPOINTS_PER_ORGANIZATION} endpoints."]})
    secret = signing.new_secret()
    person = caller.person  # the portal's user model, or None for a key made by a command
    endpoint = WebhookEndpoint.objects.create(organization_id=organization_id,
                                              created_by=person if isinstance(person, User) else None,
                                              secret_encrypted=encrypt(secret), **fields)
    audit_record(action="webhook_endpoint.created", actor=caller.audit_actor, organization=caller.organization,
                 target=endpoint, metadata={"url": endpoint.url, "eventTypes": endpoint.event_types})
    return endpoint, secret


@transaction.atomic
def webhook_endpoint_update(*, caller: Caller, endpoint: WebhookEndpoint, url: str | None = None,
                            description: str | None = None, event_types: list[str] | None = None,
                            enabled: bool | None = None) -> WebhookEndpoint:
    organization_id = _require_write(caller)
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk, organization_id=organization_id)
    fields: dict[str, Any] = {}
    if url is not None:
        fields["url"] = clean_url(url)
    if description is not None:
        fields["description"] = _clean_description(description)
    if event_types is not None:
        fields["event_types"] = clean_event_types(event_types)
    if enabled is not None:
        fields["enabled"] = bool(enabled)
    changed = {k: v for k, v in fields.items() if getattr(endpoint, k) != v}
    if not changed:
        return endpoint
    if "url" in changed or changed.get("enabled") is True:
        # Pointing deliveries somewhere, or turning them on, is as much a webhook as making one; turning an
        # endpoint off or renaming it stays open to everyone with the scope.
        require_verified_email(caller, "a webhook endpoint")
    for key, value in changed.items():
        setattr(endpoint, key, value)
    update_fields = [*changed, "updated_at"]
    if changed.get("enabled") is True:
        # Enabled again by a person: the five failing days start over.
        endpoint.disabled_at, endpoint.disabled_reason, endpoint.failing_since = None, "", None
        update_fields += ["disabled_at", "disabled_reason", "failing_since"]
    endpoint.save(update_fields=update_fields)
    audit_record(action="webhook_endpoint.updated", actor=caller.audit_actor, organization=caller.organization,
                 target=endpoint, metadata={"fields": sorted(changed)})
    return endpoint


@transaction.atomic
def webhook_endpoint_delete(*, caller: Caller, endpoint: WebhookEndpoint) -> None:
    _require_write(caller)
    audit_record(action="webhook_endpoint.deleted", actor=caller.audit_actor, organization=caller.organization,
                 target=endpoint, metadata={"url": endpoint.url})
    endpoint.delete()


@transaction.atomic
def webhook_endpoint_rotate_secret(*, caller: Caller, endpoint: WebhookEndpoint) -> tuple[WebhookEndpoint, str]:
    """A new secret (shown once); the old one keeps signing beside it for 24 hours, so receivers can switch."""
    organization_id = _require_write(caller)
    require_verified_email(caller, "a webhook endpoint")
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk, organization_id=organization_id)
    secret = signing.new_secret()
    endpoint.previous_secret_encrypted = endpoint.secret_encrypted
    endpoint.previous_secret_until = timezone.now() + timedelta(hours=portal_settings.WEBHOOK_SECRET_OVERLAP_HOURS)
    endpoint.secret_encrypted = encrypt(secret)
    endpoint.save(update_fields=["previous_secret_encrypted", "previous_secret_until", "secret_encrypted",
                                 "updated_at"])
    audit_record(action="webhook_endpoint.secret_rotated", actor=caller.audit_actor, organization=caller.organization,
                 target=endpoint)
    return endpoint, secret


def signing_secrets(endpoint: WebhookEndpoint, now: datetime | None = None) -> list[str]:
    """The secrets that sign a delivery now: the current one, and the previous one during its overlap."""
    now = now or timezone.now()
    found = [decrypt(endpoint.secret_encrypted)]
    if endpoint.previous_secret_encrypted and endpoint.previous_secret_until and endpoint.previous_secret_until > now:
        found.append(decrypt(endpoint.previous_secret_encrypted))
    return found


# The outbox ----------------------------------------------------------------------------------------------


def _enqueue(delivery_ids: list[int], countdown: float | None = None) -> None:
    """Hand deliveries to the worker (``portal.outboxes.send``: the request does not wait for the broker)."""
    for delivery_id in delivery_ids:  # by name: webhooks.tasks imports this module
        outboxes.send("webhooks.tasks.deliver", delivery_id, countdown=countdown)


def event_fan_out(event_pk: int) -> None:
    """Make the deliveries of one recorded event (the worker's side of ``webhooks.outbox``): one for each endpoint
    of its organization that is enabled, takes its type and existed when it happened. Idempotent: a delivery is
    unique per event and endpoint, so a fan-out run twice (two sweeps, or a worker that died before it stamped
    the event) makes each one once."""
    event = WebhookEvent.objects.filter(pk=event_pk, fanned_out_at__isnull=True).first()
    if event is None:
        return
    endpoints = WebhookEndpoint.objects.filter(organization_id=event.organization_id, enabled=True,
                                               created_at__lte=event.created_at).only("id", "event_types")
    with transaction.atomic():
        WebhookDelivery.objects.bulk_create(
            [WebhookDelivery(event=event, endpoint=endpoint, next_attempt_at=event.created_at)
             for endpoint in endpoints if endpoint.wants(event.type)],
            ignore_conflicts=True,
        )
        WebhookEvent.objects.filter(pk=event.pk).update(fanned_out_at=timezone.now())


@transaction.atomic
def webhook_endpoint_send_test(*, caller: Caller, endpoint: WebhookEndpoint) -> WebhookDelivery:
    """A ``webhook.test`` event to this endpoint only (enabled or not, whatever types it takes)."""
    organization_id = _require_write(caller)
    data = {"endpointId": endpoint.pk, "message": "This is a test event from the developer portal."}
    now = timezone.now()
    # Its one delivery is made here: the fan-out would pick endpoints by their types and state, a test does not.
    event = WebhookEvent.objects.create(event_id=signing.new_event_id(), organization_id=organization_id,
                                        type="webhook.test", data=data, created_at=now, fanned_out_at=now)
    delivery = WebhookDelivery.objects.create(event=event, endpoint=endpoint, next_attempt_at=now)
    transaction.on_commit(lambda: _enqueue([delivery.pk]))
    audit_record(action="webhook_endpoint.tested", actor=caller.audit_actor, organization=caller.organization,
                 target=endpoint)
    return delivery


@transaction.atomic
def webhook_delivery_retry(*, caller: Caller, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a delivery again now, with the same ``webhook-id`` (a receiver that has it already can skip it)."""
    organization_id = _require_write(caller)
    delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery.pk,
                                                               endpoint__organization_id=organization_id)
    delivery.status = WebhookDelivery.Status.PENDING
    delivery.next_attempt_at = timezone.now()
    delivery.locked_until = None
    delivery.save(update_fields=["status", "next_attempt_at", "locked_until", "updated_at"])
    audit_record(action="webhook_delivery.resent", actor=caller.audit_actor, organization=caller.organization,
                 target=delivery.endpoint, metadata={"deliveryId": delivery.pk, "eventId": delivery.event.event_id})
    transaction.on_commit(lambda: _enqueue([delivery.pk]))
    return delivery




# The worker's side ---------------------------------------------------------------------------------------


def _lease_seconds() -> float:
    """How long a worker holds a delivery it took: longer than an attempt can last, so that only a worker that
    died lets it go (the sweep then gives it to another)."""
    timeout = float(portal_settings.WEBHOOK_TIMEOUT_SECONDS)
    return timeout + max(5.0, timeout)


def delivery_attempt(delivery_id: int) -> WebhookAttempt | None:
    """One attempt of a delivery (the ``deliver`` job). Idempotent: nothing happens unless the delivery is due."""
    if not outboxes.claim(WebhookDelivery, delivery_id, _lease_seconds()):
        return None
    delivery = WebhookDelivery.objects.select_related("event", "endpoint", "endpoint__organization").filter(
        pk=delivery_id).first()
    if delivery is None:  # its endpoint was deleted meanwhile
        return None
    endpoint, event = delivery.endpoint, delivery.event
    exact_now = timezone.now()
    now = exact_now.replace(microsecond=0)  # webhook-timestamp is whole seconds; the schedule counts from exact_now
    if not endpoint.enabled and event.type != "webhook.test":  # disabled since: only a test still goes
        WebhookDelivery.objects.filter(pk=delivery.pk).update(status=WebhookDelivery.Status.FAILED, locked_until=None)
        return None
    payload = signing.body(event.type, event.created_at, event.data)
    headers = signing.headers(event_id=event.event_id, sent_at=now, payload=payload,
                              signing_secrets=signing_secrets(endpoint, exact_now))
    answer = transport.post(endpoint.url, payload.encode(), headers)
    return _record_attempt(delivery, answer, exact_now)


@transaction.atomic
def _record_attempt(delivery: WebhookDelivery, answer: transport.Answer, now: datetime) -> WebhookAttempt | None:
    endpoint = WebhookEndpoint.objects.select_for_update().filter(pk=delivery.endpoint_id).first()
    if endpoint is None:  # deleted while the attempt was under way, with its deliveries
        return None
    attempt = WebhookAttempt.objects.create(delivery=delivery, at=now, status_code=answer.status_code,
                                            duration_ms=answer.duration_ms, error=answer.error,
                                            response_body=answer.body)
    delivery.attempt_count += 1
    delivery.locked_until = None
    schedule = list(portal_settings.WEBHOOK_RETRY_SCHEDULE)
    if answer.succeeded:
        delivery.status, delivery.next_attempt_at = WebhookDelivery.Status.SUCCEEDED, None
        if endpoint.failing_since is not None:
            endpoint.failing_since = None
            endpoint.save(update_fields=["failing_since"])
    else:
        logger.info("Webhook delivery %s attempt %s failed: %s", delivery.pk, delivery.attempt_count,
                    answer.status_code or answer.error)
        if delivery.attempt_count <= len(schedule):
            delay = schedule[delivery.attempt_count - 1]
            delivery.next_attempt_at = timezone.now() + timedelta(seconds=delay)  # counted from the attempt's end
            if delay <= 60:  # a short wait rides on the message; longer ones come back with the sweep
                transaction.on_commit(lambda: _enqueue([delivery.pk], countdown=delay))
        else:
            delivery.status, delivery.next_attempt_at = WebhookDelivery.Status.FAILED, None
        _note_failure(endpoint, now)
    delivery.save(update_fields=["status", "attempt_count", "next_attempt_at", "locked_until", "updated_at"])
    return attempt


def _note_failure(endpoint: WebhookEndpoint, now: datetime) -> None:
    if endpoint.failing_since is None:
        endpoint.failing_since = now
        endpoint.save(update_fields=["failing_since"])
        return
    days = portal_settings.WEBHOOK_DISABLE_AFTER_DAYS
    if endpoint.enabled and endpoint.failing_since <= now - timedelta(days=days):
        endpoint.enabled = False
        endpoint.disabled_at = now
        endpoint.disabled_reason = f"Every delivery failed for {days} days."
        endpoint.save(update_fields=["enabled", "disabled_at", "disabled_reason"])
        audit_record(action="webhook_endpoint.disabled", actor=None, organization_id=endpoint.organization_id,
                     target=endpoint, metadata={"reason": endpoint.disabled_reason})
        from notifications.services import notify_webhook_endpoint_disabled

        page = reverse("webhook-detail", args=[endpoint.organization.slug, endpoint.pk])
        notify_webhook_endpoint_disabled(organization=endpoint.organization, endpoint_url=endpoint.url,
                                         reason=endpoint.disabled_reason, page=page)


def deliver_due(limit: int = 1000) -> int:
    """The sweep: fan out the events recorded since (``event_fan_out``), then enqueue every pending delivery that
    is due and held by no live worker. Returns how many it enqueued."""
    for event_pk in (WebhookEvent.objects.filter(fanned_out_at__isnull=True).order_by("created_at")
                     .values_list("pk", flat=True)[:limit]):
        event_fan_out(event_pk)
    ids = outboxes.due_ids(WebhookDelivery, limit)
    _enqueue(ids)
    return len(ids)


def prune_attempts() -> int:
    """Attempts (and finished deliveries and their events) older than 30 days go."""
    cutoff = timezone.now() - timedelta(days=portal_settings.WEBHOOK_ATTEMPTS_KEPT_DAYS)
    removed, _ = WebhookAttempt.objects.filter(at__lt=cutoff).delete()
    WebhookDelivery.objects.filter(created_at__lt=cutoff).exclude(status=WebhookDelivery.Status.PENDING).delete()
    WebhookEvent.objects.filter(created_at__lt=cutoff, deliveries__isnull=True).delete()
    return removed
