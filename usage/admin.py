"""Usage per organization in the admin: read-only totals, and each organization's last 30 days by day."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, TypedDict

from django.contrib import admin
from django.db.models import F, IntegerField, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from usage.models import Granularity, OrganizationUsage, UsageCount
from usage.selectors import chart_buckets

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class _Totals(TypedDict):
    """What ``OrganizationUsageAdmin.get_queryset`` annotates each organization with."""

    requests_24h: int
    requests_30d: int
    errors_30d: int

REQUESTS = F("success") + F("client_errors") + F("rate_limited") + F("server_errors")
ERRORS = F("client_errors") + F("rate_limited") + F("server_errors")


def _total(expression, granularity: str, since) -> Coalesce:
    counts = (UsageCount.objects.filter(organization=OuterRef("pk"), granularity=granularity, start__gte=since)
              .order_by().values("organization").annotate(total=Sum(expression)).values("total"))
    return Coalesce(Subquery(counts, output_field=IntegerField()), Value(0))


@admin.register(OrganizationUsage)
class OrganizationUsageAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "requests_24h", "requests_30d", "errors_30d")
    search_fields = ("name", "slug")
    fields = ("name", "slug", "requests_24h", "requests_30d", "errors_30d", "last_30_days")
    readonly_fields = fields
    actions = None

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        now = timezone.now()
        return super().get_queryset(request).annotate(
            requests_24h=_total(REQUESTS, Granularity.HOUR, now - timedelta(hours=24)),
            requests_30d=_total(REQUESTS, Granularity.DAY, now - timedelta(days=30)),
            errors_30d=_total(ERRORS, Granularity.DAY, now - timedelta(days=30)),
        ).order_by("-requests_30d", "name")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.display(description="requests, 24 hours", ordering="requests_24h")
    def requests_24h(self, obj: WithAnnotations[OrganizationUsage, _Totals]) -> int:
        return obj.requests_24h

    @admin.display(description="requests, 30 days", ordering="requests_30d")
    def requests_30d(self, obj: WithAnnotations[OrganizationUsage, _Totals]) -> int:
        return obj.requests_30d

    @admin.display(description="errors and 429s, 30 days", ordering="errors_30d")
    def errors_30d(self, obj: WithAnnotations[OrganizationUsage, _Totals]) -> int:
        return obj.errors_30d

    @admin.display(description="last 30 days")
    def last_30_days(self, obj: OrganizationUsage) -> str:
        rows = [(b.start.strftime("%Y-%m-%d"), b.requests, b.success, b.client_errors, b.rate_limited,
                 b.server_errors) for b in reversed(chart_buckets(obj, "30d"))]
        return format_html(
            "<table><thead><tr><th>Day (UTC)</th><th>Requests</th><th>Success</th><th>Client errors</th>"
            "<th>Rate limited</th><th>Server errors</th></tr></thead><tbody>{}</tbody></table>",
            format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", rows))
