"""Usage charts as server-rendered SVG: stacked bars of requests by outcome, one bar a bucket.

Drawn here rather than by a charting library: nothing to download, no script, and it passes a strict
Content-Security-Policy (colours come from classes in ``static/portal.css``, never from ``style=``). The SVG
scales to its box (``viewBox``), so it reads on a phone as on a wide screen; the numbers are also written out
as a table beside it, for screen readers and for anyone who wants them exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

from usage.selectors import CHART_PERIODS, UsageBucket

WIDTH, HEIGHT = 600, 160
# Bottom to top, in the legend's order: (attribute of a bucket, CSS class, label).
SERIES = (
    ("success", "usage-success", "Success"),
    ("client_errors", "usage-client", "Client errors"),
    ("rate_limited", "usage-limited", "Rate limited"),
    ("server_errors", "usage-server", "Server errors"),
)


@dataclass(frozen=True)
class Segment:
    css_class: str
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Bar:
    bucket: UsageBucket
    title: str
    segments: list[Segment]


@dataclass(frozen=True)
class Chart:
    period: str
    period_label: str
    granularity: str
    bars: list[Bar]
    totals: dict[str, int]
    peak: int

    @property
    def total(self) -> int:
        return sum(self.totals.values())

    @property
    def busy_buckets(self) -> list[UsageBucket]:
        """The buckets with requests, newest first (the table beside the chart)."""
        return [bar.bucket for bar in reversed(self.bars) if bar.bucket.requests]

    @property
    def first(self) -> UsageBucket | None:
        return self.bars[0].bucket if self.bars else None

    @property
    def last(self) -> UsageBucket | None:
        return self.bars[-1].bucket if self.bars else None

    @property
    def width(self) -> int:
        return WIDTH

    @property
    def height(self) -> int:
        return HEIGHT

    @property
    def series(self) -> list[tuple[str, str, int]]:
        return [(css, label, self.totals[name]) for name, css, label in SERIES]


def bucket_label(bucket: UsageBucket, granularity: str) -> str:
    return bucket.start.strftime("%Y-%m-%d" if granularity == "day" else "%Y-%m-%d %H:%M") + " UTC"


def build_chart(period: str, buckets: list[UsageBucket]) -> Chart:
    label, granularity, _count = CHART_PERIODS[period]
    peak = max((bucket.requests for bucket in buckets), default=0)
    slot = WIDTH / max(1, len(buckets))
    gap = min(2.0, slot * 0.2)
    bars = []
    for index, bucket in enumerate(buckets):
        segments, bottom = [], float(HEIGHT)
        for name, css_class, _label in SERIES:
            value = getattr(bucket, name)
            if not value:
                continue
            height = HEIGHT * value / peak
            bottom -= height
            segments.append(Segment(css_class, round(index * slot + gap / 2, 2), round(bottom, 2),
                                    round(slot - gap, 2), round(height, 2)))
        parts = ", ".join(f"{getattr(bucket, name)} {text.lower()}" for name, _css, text in SERIES
                          if getattr(bucket, name))
        title = f"{bucket_label(bucket, granularity)}: {bucket.requests} requests" + (f" ({parts})" if parts else "")
        bars.append(Bar(bucket, title, segments))
    totals = {name: sum(getattr(bucket, name) for bucket in buckets) for name, _css, _label in SERIES}
    return Chart(period=period, period_label=label, granularity=granularity, bars=bars, totals=totals, peak=peak)
