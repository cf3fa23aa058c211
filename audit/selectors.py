"""Reads of the audit log. Callers pass an organization they got from the access check (an
``accounts.Organization``, typed as a model: audit sits below accounts and never imports it)."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Max, Model, Q, QuerySet

from audit.models import AuditEvent

# Who an event's actor is, as the API's ``actor.type`` says it; "system" is an event nobody caused.
USER_ACTOR = "user"
SYSTEM_ACTOR = "system"


def organization_audit_events(
    organization: Model, *, action: str | None = None, since: datetime | None = None,
    until: datetime | None = None, actor: tuple[str, str] | None = None, target_type: str | None = None,
    target_id: str | None = None,
) -> QuerySet[AuditEvent]:
    """The organization's events, newest first, filtered: of one action; at or after ``since`` and before
    ``until``; by one actor (``("user", "<id>")``, ``("api_key", "<public id>")``, ``("oauth_client",
    "<client id>")`` or ``("system", "")``); about objects of one type and/or id. Labels are stored, so no joins."""
    events = AuditEvent.objects.filter(organization_id=organization.pk)
    if action:
        events = events.filter(action=action)
    if since is not None:
        events = events.filter(created_at__gte=since)
    if until is not None:
        events = events.filter(created_at__lt=until)
    if actor is not None:
        events = events.filter(_actor_condition(*actor))
    if target_type:
        events = events.filter(target_type=target_type)
    if target_id:
        events = events.filter(target_id=target_id)
    return events.order_by("-created_at", "-id")


def _actor_condition(kind: str, identifier: str) -> Q:
    if kind == USER_ACTOR:
        # The person, whether they acted in the dashboard or through an OAuth token of theirs.
        return Q(actor_user_id=identifier)
    if kind == SYSTEM_ACTOR:
        return Q(actor_user__isnull=True, actor_credential_type="")
    return Q(actor_credential_type=kind, actor_credential_id=identifier)


def organization_audit_actions(organization: Model) -> list[str]:
    """The distinct actions present in the organization's log, for the filter."""
    return list(
        AuditEvent.objects.filter(organization_id=organization.pk)
        .order_by("action")
        .values_list("action", flat=True)
        .distinct()
    )


def organization_audit_target_types(organization: Model) -> list[str]:
    """The distinct kinds of object the organization's log is about, for the filter."""
    return list(
        AuditEvent.objects.filter(organization_id=organization.pk).exclude(target_type="")
        .order_by("target_type")
        .values_list("target_type", flat=True)
        .distinct()
    )


def organization_audit_actors(organization: Model) -> list[tuple[str, str, str]]:
    """Everyone and everything that acted in the organization's log, as ``(kind, id, label)``: people first
    (by the label of their newest event), then credentials. Two queries, however long the log."""
    events = AuditEvent.objects.filter(organization_id=organization.pk)
    people = (events.filter(actor_user__isnull=False, actor_credential_type="")
              .values("actor_user_id").annotate(label=Max("actor_label")).order_by("label"))
    credentials = (events.exclude(actor_credential_type="")
                   .values("actor_credential_type", "actor_credential_id").annotate(label=Max("actor_label"))
                   .order_by("actor_credential_type", "label"))
    return [
        *((USER_ACTOR, str(row["actor_user_id"]), row["label"]) for row in people),
        *((row["actor_credential_type"], row["actor_credential_id"], row["label"]) for row in credentials),
    ]

