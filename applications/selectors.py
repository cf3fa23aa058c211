"""Reads of applications, always through the caller's organization."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db.models import Count, Min, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from accounts.models import Organization
from applications.models import Application


def organization_applications(organization: Organization) -> QuerySet[Application]:
    now = timezone.now()
    unexpired = Q(api_keys__expires_at__isnull=True) | Q(api_keys__expires_at__gt=now)
    live = Q(api_keys__revoked_at__isnull=True) & unexpired
    return (
        Application.objects.filter(organization=organization)
        .annotate(active_key_count=Count("api_keys", filter=live, distinct=True))
        .order_by("-created_at", "-id")
    )


def search_applications(organization: Organization, *, q: str = "") -> QuerySet[Application]:
    """The organization's applications whose name or description holds ``q``."""
    applications = organization_applications(organization)
    if q:
        applications = applications.filter(Q(name__icontains=q) | Q(description__icontains=q))
    return applications


def organization_application_choices(organization: Organization) -> QuerySet[Application]:
    """The organization's applications by name, for a filter's choices (another organization's id is no
    choice, so it is refused as any unknown value)."""
    return Application.objects.filter(organization=organization).only("id", "name").order_by("name", "id")


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


def access_application_named_in_input(organization: Organization, application_id: object) -> Application:
    """The application an input body names (``applicationId`` of a new key or client). An id that names nothing
    the caller can see is bad input, not a missing page: a ``ValidationError`` on ``application_id``."""
    try:
        return access_application_by_id(organization, application_id)
    except Http404:
        raise ValidationError({"application_id": ["No such application."]}) from None


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
