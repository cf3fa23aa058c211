"""Writing audit events. Call inside the transaction of the change being audited."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import models

from audit.context import current_request_context
from audit.models import AuditEvent

if TYPE_CHECKING:
    from portal.ratelimit import Verdict


def _actor_fields(actor: Any) -> dict[str, Any]:
    """An actor is a user, a credential (anything with ``audit_actor_type``/``audit_actor_id``), or None."""
    if actor is None:
        return {"actor_label": "system"}
    if isinstance(actor, AbstractBaseUser):
        if not actor.is_authenticated:
            return {"actor_label": "anonymous"}
        return {"actor_user": actor, "actor_label": str(actor)}
    fields: dict[str, Any] = {
        "actor_credential_type": actor.audit_actor_type,
        "actor_credential_id": str(actor.audit_actor_id),
        "actor_label": str(actor)[:255],
    }
    # A credential acting for a person (an OAuth token of a user) keeps that person too.
    user = getattr(actor, "audit_actor_user", None)
    if user is not None:
        fields["actor_user"] = user
    return fields


def audit_record(
    *,
    action: str,
    actor: Any,
    organization: Any = None,
    organization_id: int | None = None,
    target: models.Model | None = None,
    target_label: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> AuditEvent:
    """Store one audit event. ``metadata`` must never hold a secret."""
    context = current_request_context()
    target_fields: dict[str, Any] = {}
    if target is not None:
        target_fields = {
            "target_type": target._meta.model_name,
            "target_id": str(target.pk),
            "target_label": (target_label if target_label is not None else str(target))[:255],
        }
    elif target_label:
        target_fields = {"target_label": target_label[:255]}
    if organization is not None:
        organization_id = organization.pk
    return AuditEvent.objects.create(
        organization_id=organization_id,
        action=action,
        metadata=metadata or {},
        ip_address=context.ip_address,
        user_agent=context.user_agent,
        **_actor_fields(actor),
        **target_fields,
    )


def audit_guessing_refused(verdict: Verdict) -> None:
    """The first refused attempt of each window of a guessing limit (``portal.ratelimit.guard``); the rest of the
    window is not audited, so a flood of guesses cannot flood the log."""
    for refusal in verdict.refusals:
        # "bucket": the key audit events have always stored for which counter refused ("id" or "ip").
        audit_record(action="security.rate_limited", actor=None, target_label=refusal.value[:200],
                     metadata={"kind": refusal.kind, "bucket": refusal.counter, "limit": refusal.rate})
