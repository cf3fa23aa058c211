"""Rates, and the limits against guessing.

- Rates are written ``<count>/<period>`` (``100/m``, ``1000/h``, ``10/5m``); ``check_rate_settings`` stops start-up
  on a malformed one. ``RateWindow`` is one counter's current window (its limit, how many it counted, the
  seconds left), as the API's headers show it.
- Against guessing: failed client authentications (token endpoint and ``POST /api/v1/auth``, one set of counters)
  and failed sign-ins, per identifier and per client IP, counted by django-ratelimit through its public API
  (``django_ratelimit.core.get_usage``) in its cache (``RATELIMIT_USE_CACHE``). When the cache is down these fail
  closed: ``guard`` says so, and the view answers 503.

The per-credential API limits are counted on the request path (``portal.api_counters``), under their own keys.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import timedelta

from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest
from django.utils import timezone
from django_ratelimit.core import get_usage

from portal.conf import portal_settings
from portal.net import client_ip

logger = logging.getLogger(__name__)

RATE_PATTERN = re.compile(r"^(\d+)/(\d*)([smhd])$")
PERIOD_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
RATE_SETTINGS = (
    "API_READ_RATE", "API_WRITE_RATE", "CLIENT_AUTH_FAILURES_PER_CLIENT", "CLIENT_AUTH_FAILURES_PER_IP",
    "SIGN_IN_FAILURES_PER_EMAIL", "SIGN_IN_FAILURES_PER_IP", "DEVICE_CODE_FAILURES_PER_USER",
    "DEVICE_CODE_FAILURES_PER_IP", "CREDENTIAL_REVOKE_RATE",
)
SERVICE_RETRY_SECONDS = 5  # Retry-After of a guessable endpoint's 503 while the counters cannot be reached


class LimiterUnavailable(Exception):
    """The cache that holds the counters did not answer."""


def check_rate_settings() -> None:
    """Stop start-up on a malformed rate, naming the setting (``100/m``, ``1000/h``, ``10/5m``)."""
    for name in RATE_SETTINGS:
        value = getattr(portal_settings, name)
        if not isinstance(value, str) or not RATE_PATTERN.match(value) or value.startswith("0/"):
            raise ImproperlyConfigured(
                f'PORTAL["{name}"] = {value!r} is not a rate: write "<count>/<period>" with a period of s, m, h '
                'or d, such as "100/m".'
            )


def parse_rate(rate: str) -> tuple[int, int]:
    """``(count, period in seconds)`` of a rate checked by ``check_rate_settings``: ``"10/5m"`` is ``(10, 300)``."""
    match = RATE_PATTERN.match(rate)
    if match is None:
        raise ValueError(f"Not a rate: {rate!r}")
    count, multiplier, unit = match.groups()
    return int(count), int(multiplier or 1) * PERIOD_SECONDS[unit]


@dataclass(frozen=True)
class RateWindow:
    """One rate-limit counter in its current window: the limit, what it has counted, the seconds until it ends."""

    limit: int
    count: int
    seconds_left: int

    @property
    def exceeded(self) -> bool:
        return self.count > self.limit

    @property
    def retry_after(self) -> int:
        return max(1, self.seconds_left)

    def headers(self) -> dict[str, str]:
        reset = (timezone.now() + timedelta(seconds=max(0, self.seconds_left))).replace(microsecond=0)
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(max(0, self.limit - self.count)),
            "X-RateLimit-Reset": reset.isoformat().replace("+00:00", "Z"),
        }


def count(request: HttpRequest, *, group: str, value: str, rate: str, increment: bool = True) -> RateWindow:
    """Count (or only read) one of django-ratelimit's counters. Raises ``LimiterUnavailable`` when the cache fails."""
    try:
        usage = get_usage(request, group=group, key=lambda _group, _request: value, rate=rate,
                          increment=increment)
    except Exception as exc:  # the cache client's own errors (redis.ConnectionError, TimeoutError, ...)
        raise LimiterUnavailable(str(exc)) from exc
    if usage is None or usage["time_left"] < 0:
        raise LimiterUnavailable("the cache did not return a count")
    return RateWindow(limit=usage["limit"], count=usage["count"], seconds_left=usage["time_left"])


# Against guessing ----------------------------------------------------------------------------------------

GUARDS = {
    # kind: (setting per identifier, setting per IP, what is guessed, for the log)
    "client_auth": ("CLIENT_AUTH_FAILURES_PER_CLIENT", "CLIENT_AUTH_FAILURES_PER_IP", "client authentication"),
    "sign_in": ("SIGN_IN_FAILURES_PER_EMAIL", "SIGN_IN_FAILURES_PER_IP", "sign-in"),
    "device_code": ("DEVICE_CODE_FAILURES_PER_USER", "DEVICE_CODE_FAILURES_PER_IP", "device user code"),
}


@dataclass(frozen=True)
class Refusal:
    """The first refused attempt of a counter's window: the view that refuses it writes the audit event."""

    kind: str
    counter: str  # which of the guard's two counters refused: "id" (the identifier's) or "ip"
    value: str
    rate: str


@dataclass(frozen=True)
class Verdict:
    """What the guard says about an attempt, before it is tried.

    ``unavailable``: the counters cannot be read, refuse with 503 (``Retry-After: SERVICE_RETRY_SECONDS``): guessing
    must never get cheaper because the cache is down. ``wait``: seconds to wait, refuse with 429. ``refusals``:
    counters refused for the first time this window, to audit."""

    unavailable: bool = False
    wait: int | None = None
    refusals: list[Refusal] = field(default_factory=list)

    @property
    def allowed(self) -> bool:
        return not self.unavailable and self.wait is None


def _counters(kind: str, identifier: str, request: HttpRequest) -> list[tuple[str, str, str]]:
    per_identifier, per_ip, _label = GUARDS[kind]
    return [
        (f"guard:{kind}:id", identifier.strip().lower()[:200], getattr(portal_settings, per_identifier)),
        (f"guard:{kind}:ip", client_ip(request), getattr(portal_settings, per_ip)),
    ]


def guard(request: HttpRequest, *, kind: str, identifier: str) -> Verdict:
    """The guessing guard of sign-in, ``/oauth/token/`` and ``POST /api/v1/auth``: may this attempt be tried?"""
    waits, refusals = [], []
    try:
        for group, value, rate in _counters(kind, identifier, request):
            usage = count(request, group=group, value=value, rate=rate, increment=False)
            if usage.count >= usage.limit:
                waits.append(usage.retry_after)
                if count(request, group=f"{group}:refused", value=value, rate=rate).count == 1:
                    refusals.append(Refusal(kind=kind, counter=group.rsplit(":", 1)[-1], value=value, rate=rate))
    except LimiterUnavailable:
        return Verdict(unavailable=True)
    return Verdict(wait=max(waits) if waits else None, refusals=refusals)


def record_failure(request: HttpRequest, *, kind: str, identifier: str) -> None:
    """Count one failed attempt in the identifier's and the client IP's counters (logged when the cache is down)."""
    try:
        for group, value, rate in _counters(kind, identifier, request):
            count(request, group=group, value=value, rate=rate)
    except LimiterUnavailable:
        logger.error("Could not count a failed %s: the cache is unreachable", GUARDS[kind][2])
