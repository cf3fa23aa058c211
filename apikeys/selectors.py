"""Reads of API keys, always through the caller's organization."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from accounts.models import Organization
from apikeys.models import ApiKey
from applications.models import Application


def organization_api_keys(
    organization: Organization, *, application: Application | None = None, include_revoked: bool = True
) -> QuerySet[ApiKey]:
    keys = ApiKey.objects.filter(organization=organization).select_related("application", "created_by", "replaced_by")
    if application is not None:
        keys = keys.filter(application=application)
    if not include_revoked:
        keys = keys.filter(revoked_at__isnull=True)
    return keys.order_by("-created_at", "-id")


def access_api_key_by_id(organization: Organization, key_id: object, *, include_revoked: bool = True) -> ApiKey:
    """A key of the organization by its public id (``id`` in the API); foreign or unknown is a 404."""
    keys = organization_api_keys(organization, include_revoked=include_revoked)
    key = keys.filter(public_id=str(key_id)[:16]).first()
    if key is None:
        raise Http404("No such API key.")
    return key
