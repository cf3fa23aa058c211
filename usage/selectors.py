"""Reads of usage counts and the request log. Callers pass an organization they got from the access check, and
credentials they got through the ``access_*`` selectors of that organization."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db.models import Q, QuerySet, Sum

from accounts.models import Organization
from usage.models import BUCKET_SECONDS, RETENTION, Granularity, RequestLog, UsageCount

# What a chart shows for each period the dashboard offers: (label, granularity, buckets).
CHART_PERIODS = {
    "24h": ("24 hours", Granularity.HOUR, 24),
    "7d": ("7 days", Granularity.HOUR, 7 * 24),
    "30d": ("30 days", Granularity.DAY, 30),
}
DEFAULT_SPAN: dict[str, timedelta] = {Granularity.MINUTE: timedelta(hours=1), Granularity.HOUR: timedelta(hours=24),
                Granularity.DAY: timedelta(days=30)}


@dataclass(frozen=True)
class UsageBucket:
    start: datetime
    success: int = 0
    client_errors: int = 0
    rate_limited: int = 0
    server_errors: int = 0

    @property
    def requests(self) -> int:
        return self.success + self.client_errors + self.rate_limited + self.server_errors


def floor_to(moment: datetime, granularity: str) -> datetime:
    """The start of the bucket ``moment`` falls in (whole minutes, hours and days, UTC)."""
    seconds = BUCKET_SECONDS[granularity]
    epoch = int(moment.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, UTC)


def ceil_to(moment: datetime, granularity: str) -> datetime:
    floor = floor_to(moment, granularity)
    return floor if floor == moment else floor + timedelta(seconds=BUCKET_SECONDS[granularity])


def usage_range(granularity: str, start: datetime | None, end: datetime | None,
                now: datetime | None = None) -> tuple[datetime, datetime]:
    """``[start, end)`` on whole buckets (``start`` rounded down, ``end`` up); without them, the bucket holding
    ``now`` and the default span before it. Raises ``ValueError`` for an empty range or one longer than the
    granularity is kept."""
    now = now or datetime.now(UTC)
    end = ceil_to(end, granularity) if end is not None else floor_to(now, granularity) + timedelta(
        seconds=BUCKET_SECONDS[granularity])
    start = floor_to(start, granularity) if start is not None else end - DEFAULT_SPAN[granularity]
    if start >= end:
        raise ValueError("`from` must be before `to`.")
    kept = RETENTION[Granularity(granularity)]
    if end - start > kept:
        raise ValueError(f"{granularity.capitalize()} buckets are kept {_describe(kept)}: "
                         f"ask for a shorter range or a coarser granularity.")
    return start, end


def _describe(span: timedelta) -> str:
    return f"{span.days} days" if span.days >= 3 else f"{int(span.total_seconds() // 3600)} hours"


def usage_buckets(organization: Organization, *, granularity: str, start: datetime, end: datetime,
                  api_key: Any = None, oauth_client: Any = None, application: Any = None) -> list[UsageBucket]:
    """Every bucket of ``[start, end)`` in order, those without requests as zeros. One aggregate query."""
    counts = UsageCount.objects.filter(organization=organization, granularity=granularity, start__gte=start,
                                       start__lt=end)
    if api_key is not None:
        counts = counts.filter(api_key=api_key)
    if oauth_client is not None:
        counts = counts.filter(oauth_client=oauth_client)
    if application is not None:
        counts = counts.filter(application_id=application.pk)
    totals = {
        row["start"]: row for row in counts.values("start").annotate(
            s=Sum("success"), c=Sum("client_errors"), r=Sum("rate_limited"), e=Sum("server_errors"))
    }
    step = timedelta(seconds=BUCKET_SECONDS[granularity])
    buckets, moment = [], start
    while moment < end:
        row = totals.get(moment)
        buckets.append(UsageBucket(moment, row["s"], row["c"], row["r"], row["e"]) if row else UsageBucket(moment))
        moment += step
    return buckets


def chart_buckets(organization: Organization, period: str, now: datetime | None = None,
                  **credential: Any) -> list[UsageBucket]:
    """The buckets of one of the dashboard's ``CHART_PERIODS``, ending with the current one."""
    _label, granularity, count = CHART_PERIODS[period]
    now = now or datetime.now(UTC)
    end = floor_to(now, granularity) + timedelta(seconds=BUCKET_SECONDS[granularity])
    start = end - count * timedelta(seconds=BUCKET_SECONDS[granularity])
    return usage_buckets(organization, granularity=granularity, start=start, end=end, **credential)


def status_filter(value: str) -> Q:
    """``429`` for one status, ``4xx`` for a class. Raises ``ValueError`` for anything else."""
    text = value.strip().lower()
    if len(text) == 3 and text[0] in "12345" and text[1:] == "xx":
        low = int(text[0]) * 100
        return Q(status__gte=low, status__lt=low + 100)
    if len(text) == 3 and text.isdigit() and 100 <= int(text) <= 599:
        return Q(status=int(text))
    raise ValueError("Give a status such as 429, or a class such as 4xx.")


def organization_request_logs(organization: Organization, *, api_key: Any = None, oauth_client: Any = None,
                              status: Q | None = None, since: datetime | None = None) -> QuerySet[RequestLog]:
    """The organization's logged requests, newest first. With a key or client, its index serves the listing
    (``request_log_key``, ``request_log_client``), otherwise the organization's."""
    logs = RequestLog.objects.filter(organization=organization)
    if api_key is not None:
        logs = logs.filter(api_key=api_key)
    if oauth_client is not None:
        logs = logs.filter(oauth_client=oauth_client)
    if status is not None:
        logs = logs.filter(status)
    if since is not None:
        logs = logs.filter(created_at__gte=since)
    return logs.select_related("api_key").only(
        "request_id", "created_at", "method", "path", "status", "duration_ms", "ip_address", "user_agent",
        "oauth_client_id", "api_key__public_id", "resource_server",
    ).order_by("-created_at", "-id")
