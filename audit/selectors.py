"""Reads of the audit log. Callers pass an organization they got from the access check."""

from __future__ import annotations

from datetime import datetime

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
