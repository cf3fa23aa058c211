"""``{% usage_chart organization api_key=key %}`` and ``{% recent_requests organization api_key=key %}``: the
usage panels of the key, application, OAuth client and overview pages, which belong to other apps and need not
know how usage is stored. Each panel costs one query."""

from __future__ import annotations

from typing import Any

from django import template

from accounts.models import Organization
from usage.charts import build_chart
from usage.selectors import CHART_PERIODS, chart_buckets, organization_request_logs

register = template.Library()

RECENT = 10


@register.inclusion_tag("usage/includes/chart.html", takes_context=True)
def usage_chart(context: dict, organization: Organization, **credential: Any) -> dict[str, Any]:
    """The page's ``?usage=`` period (24h, 7d, 30d; 24h by default)."""
    credential = {name: value for name, value in credential.items() if value not in (None, "")}
    request = context.get("request")
    period = request.GET.get("usage", "24h") if request is not None else "24h"
    if period not in CHART_PERIODS:
        period = "24h"
    chart = build_chart(period, chart_buckets(organization, period, **credential))
    query = request.GET.copy() if request is not None else None
    links = []
    for value, (label, _granularity, _count) in CHART_PERIODS.items():
        if query is not None:
            query["usage"] = value
        links.append((value, label, f"?{query.urlencode()}" if query is not None else f"?usage={value}"))
    kind, subject = next(iter(credential.items()), ("organization", organization))
    return {"chart": chart, "links": links, "chart_id": f"usage-{kind}-{subject.pk}"}


@register.inclusion_tag("usage/includes/request_table.html")
def recent_requests(organization: Organization, **credential: Any) -> dict[str, Any]:
    credential = {name: value for name, value in credential.items() if value not in (None, "")}
    return {"entries": list(organization_request_logs(organization, **credential)[:RECENT]),
            "show_credential": not credential}
