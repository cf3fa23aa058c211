"""Rate limits, counted by django-ratelimit in the configured cache (Redis in production, shared by every
worker and host):

- per credential on the API: separate read and write buckets, or one bucket at the credential's own
  ``rateLimitPerMinute``; anonymous requests count per client IP. When the cache is down the API fails open.
- against guessing: failed client authentications (token endpoint and ``POST /api/v1/auth``, one set of
  counters) and failed sign-ins, per identifier and per client IP. When the cache is down these fail closed.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.cache import caches
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest
from django.utils import timezone
from django_ratelimit import ALL
from django_ratelimit.core import EXPIRATION_FUDGE, _get_window, _make_cache_key, _split_rate, get_usage

from audit.services import audit_record
from portal.callers import Caller
from portal.conf import portal_settings
from portal.net import client_ip

logger = logging.getLogger(__name__)

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
RATE_PATTERN = re.compile(r"^(\d+)/(\d*)([smhd])$")
RATE_SETTINGS = (
    "API_READ_RATE", "API_WRITE_RATE", "CLIENT_AUTH_FAILURES_PER_CLIENT", "CLIENT_AUTH_FAILURES_PER_IP",
    "SIGN_IN_FAILURES_PER_EMAIL", "SIGN_IN_FAILURES_PER_IP",
)


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


@dataclass(frozen=True)
class Usage:
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


def count(request: HttpRequest, *, group: str, value: str, rate: str, increment: bool = True) -> Usage:
    """Count (or only read) one bucket. Raises ``LimiterUnavailable`` when the cache fails."""
    try:
        usage = get_usage(request, group=group, key=lambda _group, _request: value, rate=rate,
                          increment=increment)
    except Exception as exc:  # the cache client's own errors (redis.ConnectionError, TimeoutError, ...)
        raise LimiterUnavailable(str(exc)) from exc
    if usage is None or usage["time_left"] < 0:
        raise LimiterUnavailable("the cache did not return a count")
    return Usage(limit=usage["limit"], count=usage["count"], seconds_left=usage["time_left"])


# Per-credential API limits -------------------------------------------------------------------------------


def _method_rate(request: HttpRequest) -> tuple[str, str]:
    method = "read" if request.method in READ_METHODS else "write"
    return method, portal_settings.API_READ_RATE if method == "read" else portal_settings.API_WRITE_RATE


def _key_identity(public_id: str) -> str:
    return f"key:{public_id}"


def _identity(caller: Caller) -> str:
    if caller.auth_type == "api_key":
        return _key_identity(caller.credential.public_id)
    if caller.auth_type == "oauth2":
        return f"oauth:{caller.client.client_id}:{caller.user.pk if caller.user else '-'}"
    return f"user:{caller.user.pk}"


def api_usage(request: HttpRequest, caller: Caller | None) -> Usage | None:
    """Count this API request in its bucket. None when per-credential limits are off or the cache is down
    (fail open: the API keeps answering, and the failure is logged)."""
    if not portal_settings.RATELIMITS_ENABLED:
        return None
    if caller is not None and caller.counted is not None:
        return caller.counted  # counted in the round trip that fetched the credential (prefetch_bucket)
    method, rate = _method_rate(request)
    if caller is None:
        group, value = f"api:anonymous:{method}", f"ip:{client_ip(request)}"
    elif caller.rate_limit_per_minute:
        # The credential's own limit replaces both buckets and counts every request: per key, or per OAuth
        # client across all its tokens.
        owner = f"client:{caller.client.client_id}" if caller.client is not None else _identity(caller)
        group, value, rate = "api:own", owner, f"{caller.rate_limit_per_minute}/m"
    else:
        group, value = f"api:{method}", _identity(caller)
    try:
        return count(request, group=group, value=value, rate=rate)
    except LimiterUnavailable as exc:
        logger.error("Rate limiting is failing open: the cache is unreachable (%s)", type(exc.__cause__).__name__)
        return None


@dataclass(frozen=True)
class PrefetchBucket:
    """The bucket ``api_usage`` would count an API key's request in (when the key has no limit of its own),
    named exactly as django-ratelimit names it, so that the credential cache can count it in the round trip
    that fetches the key (``portal.credential_cache``). Both ways count the same Redis counter."""

    cache_key: str
    expiry: int
    limit: int
    window: int

    def usage(self, count: int) -> Usage:
        return Usage(limit=self.limit, count=count, seconds_left=self.window - int(time.time()))


def prefetch_bucket(request: HttpRequest, public_id: str) -> PrefetchBucket | None:
    """None when API limits are off, or when counters and credentials do not share one cache server."""
    if not portal_settings.RATELIMITS_ENABLED or not _counters_share_the_default_cache():
        return None
    method, rate = _method_rate(request)
    value = _key_identity(public_id)
    limit, period = _split_rate(rate)
    window = _get_window(value, period)
    cache_key = caches[settings.RATELIMIT_USE_CACHE].make_key(
        _make_cache_key(f"api:{method}", window, rate, value, ALL)
    )
    return PrefetchBucket(cache_key=cache_key, expiry=period + EXPIRATION_FUDGE, limit=limit, window=window)


def _counters_share_the_default_cache() -> bool:
    counters, default = settings.CACHES[settings.RATELIMIT_USE_CACHE], settings.CACHES["default"]
    return counters.get("LOCATION") == default.get("LOCATION") and counters.get("KEY_PREFIX") == default.get(
        "KEY_PREFIX")


# Against guessing ----------------------------------------------------------------------------------------

GUARDS = {
    # kind: (setting per identifier, setting per IP, what the identifier is)
    "client_auth": ("CLIENT_AUTH_FAILURES_PER_CLIENT", "CLIENT_AUTH_FAILURES_PER_IP", "client id"),
    "sign_in": ("SIGN_IN_FAILURES_PER_EMAIL", "SIGN_IN_FAILURES_PER_IP", "email"),
}


def _guard_buckets(kind: str, identifier: str, request: HttpRequest) -> list[tuple[str, str, str]]:
    per_identifier, per_ip, _label = GUARDS[kind]
    return [
        (f"guard:{kind}:id", identifier.strip().lower()[:200], getattr(portal_settings, per_identifier)),
        (f"guard:{kind}:ip", client_ip(request), getattr(portal_settings, per_ip)),
    ]


def guessing_blocked(request: HttpRequest, *, kind: str, identifier: str) -> int | None:
    """Seconds to wait when the failures so far reach a limit, else None. The first refused attempt of a window
    is audited, the rest are not. Raises ``LimiterUnavailable`` (callers refuse with 503: guessing must never
    get cheaper because the cache is down)."""
    waits = []
    for group, value, rate in _guard_buckets(kind, identifier, request):
        usage = count(request, group=group, value=value, rate=rate, increment=False)
        if usage.count >= usage.limit:
            waits.append(usage.retry_after)
            refused = count(request, group=f"{group}:refused", value=value, rate=rate)
            if refused.count == 1:
                audit_record(action="security.rate_limited", actor=None, target_label=value[:200],
                             metadata={"kind": kind, "bucket": group.rsplit(":", 1)[-1], "limit": rate})
    return max(waits) if waits else None


def record_failure(request: HttpRequest, *, kind: str, identifier: str) -> None:
    """Count one failed attempt in the identifier's and the client IP's buckets."""
    for group, value, rate in _guard_buckets(kind, identifier, request):
        count(request, group=group, value=value, rate=rate)
