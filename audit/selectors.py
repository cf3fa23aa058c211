"""Reads of the audit log. Callers pass an organization they got from the access check."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import QuerySet

from accounts.models import Organization
from audit.models import AuditEvent


def organization_audit_events(
    organization: Organization, *, action: str | None = None, since: datetime | None = None
) -> QuerySet[AuditEvent]:
    """The organization's events, newest first, optionally of one action or since a time. Labels are stored,
    so no joins."""
    events = AuditEvent.objects.filter(organization=organization)
    if action:
        events = events.filter(action=action)
    if since is not None:
        events = events.filter(created_at__gte=since)
    return events.order_by("-created_at", "-id")


def organization_audit_actions(organization: Organization) -> list[str]:
    """The distinct actions present in the organization's log, for the filter."""
    return list(
        AuditEvent.objects.filter(organization=organization)
        .order_by("action")
        .values_list("action", flat=True)
        .distinct()
    )


def target_audit_events(organization: Organization, target: Any, *, limit: int = 20) -> list[AuditEvent]:
    """The newest events of the organization about one object (a key's history on its page)."""
    return list(
        AuditEvent.objects.filter(organization=organization, target_type=target._meta.model_name,
                                  target_id=str(target.pk)).order_by("-created_at", "-id")[:limit]
    )
