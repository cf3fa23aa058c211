"""Reads of API keys, always through the caller's organization."""

from __future__ import annotations

from django.db.models import Q
from django.http import Http404

from accounts.models import Organization
from apikeys.models import ApiKey, ApiKeyQuerySet
from applications.models import Application
from audit.models import AuditEvent


def organization_api_keys(
    organization: Organization, *, application: Application | None = None, include_revoked: bool = True
) -> ApiKeyQuerySet:
    keys = ApiKey.objects.filter(organization=organization).select_related("application", "created_by", "replaced_by")
    if application is not None:
        keys = keys.filter(application=application)
    if not include_revoked:
        keys = keys.filter(revoked_at__isnull=True)
    return keys.order_by("-created_at", "-id")


def search_api_keys(
    organization: Organization, *, q: str = "", application: Application | None = None,
    environment: str | None = None, status: str | None = None,
) -> ApiKeyQuerySet:
    """The organization's keys that match a search (part of the name, or the whole public id) and filters."""
    keys = organization_api_keys(organization, application=application)
    if q:
        keys = keys.filter(Q(name__icontains=q) | Q(public_id=q))
    if environment:
        keys = keys.filter(environment=environment)
    if status:
        keys = keys.with_status(status)
    return keys


def access_api_key_by_id(organization: Organization, key_id: object, *, include_revoked: bool = True) -> ApiKey:
    """A key of the organization by its public id (``id`` in the API); foreign or unknown is a 404."""
    keys = organization_api_keys(organization, include_revoked=include_revoked)
    key = keys.filter(public_id=str(key_id)[:16]).first()
    if key is None:
        raise Http404("No such API key.")
    return key


def api_key_replaced(key: ApiKey) -> ApiKey | None:
    """The key this one replaced, while it still names this one as its replacement."""
    return ApiKey.objects.filter(organization_id=key.organization_id, replaced_by=key).first()


def api_key_history(organization: Organization, key: ApiKey, *, limit: int = 30) -> list[AuditEvent]:
    """The key's story, newest first: its own audit events (created, rotated, revoked, ...) and, for a replacement,
    the rotation that made it (that event's target is the old key)."""
    about_key = Q(target_type=key._meta.model_name, target_id=str(key.pk))
    made_by_rotation = Q(action="api_key.rotated", metadata__newPublicId=key.public_id)
    events = AuditEvent.objects.filter(organization=organization).filter(about_key | made_by_rotation)
    return list(events.order_by("-created_at", "-id")[:limit])
