"""Reads of applications and API keys, always through the caller's organization."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Min, Q, QuerySet
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


@dataclass(frozen=True)
class GettingStarted:
    """How far an organization is on its way to a first API call (the overview's getting-started panel)."""

    first_application_id: int | None
    has_key: bool
    has_called: bool

    @property
    def has_application(self) -> bool:
        return self.first_application_id is not None

    @property
    def done_count(self) -> int:
        return sum((self.has_application, self.has_key, self.has_called))


def organization_getting_started(organization: Organization) -> GettingStarted:
    """One aggregate query, however many applications and keys there are (a key always belongs to an
    application of its organization, so the join of applications and keys sees every key)."""
    totals = Application.objects.filter(organization=organization).aggregate(
        first_application_id=Min("id"),
        keys=Count("api_keys"),
        used_keys=Count("api_keys", filter=Q(api_keys__last_used_at__isnull=False)),
    )
    return GettingStarted(
        first_application_id=totals["first_application_id"],
        has_key=totals["keys"] > 0,
        has_called=totals["used_keys"] > 0,
    )
