"""Reads of applications and API keys, always through the caller's organization."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from accounts.models import Organization
from apikeys.models import ApiKey, Application


def organization_applications(organization: Organization) -> QuerySet[Application]:
    now = timezone.now()
    unexpired = Q(api_keys__expires_at__isnull=True) | Q(api_keys__expires_at__gt=now)
    live = Q(api_keys__revoked_at__isnull=True) & unexpired
    return (
        Application.objects.filter(organization=organization)
        .annotate(active_key_count=Count("api_keys", filter=live, distinct=True))
        .order_by("-created_at", "-id")
    )


def access_application_by_id(organization: Organization, application_id: object) -> Application:
    """The organization's application ``application_id``; a missing or foreign id is the same 404."""
    try:
        pk = int(str(application_id))
    except (TypeError, ValueError):
        raise Http404("No such application.") from None
    application = Application.objects.filter(organization=organization, pk=pk).first()
    if application is None:
        raise Http404("No such application.")
    return application


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
