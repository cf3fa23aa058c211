"""The per-credential API rate-limit counters (section 7 of the contract): which bucket a request counts in, and
counting it, in one Redis round trip.

A bucket is counted over fixed windows, staggered per bucket, by one INCR+EXPIRE script on the counter's single
key (``apirate:<bucket>:<window end>``), so it runs on one shard of a Redis Cluster too. This is the one round
trip a request with a cached credential costs (``portal.credential_cache`` costs none); with
``PORTAL_RATELIMITS=off`` there is none. Without the request path's Redis (``portal.request_redis``) the counters
live in the local cache, per process.
"""

from __future__ import annotations

import logging
import time
import zlib
from dataclasses import dataclass
from typing import Any

from django.core.cache import caches
from django.http import HttpRequest

from portal.callers import Caller
from portal.conf import portal_settings
from portal.net import client_ip
from portal.ratelimit import RateWindow, parse_rate
from portal.request_redis import request_redis

logger = logging.getLogger(__name__)

COUNTER_FUDGE_SECONDS = 5  # a counter outlives its window a little, so that a late INCR never starts from 1
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

COUNT_SCRIPT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return count
"""


@dataclass(frozen=True)
class Bucket:
    """One API counter: ``name`` (``read:key:<public id>``, ``own:client:<id>``, ``anonymous:read:ip:<ip>``) counted
    over fixed windows of ``period`` seconds. Windows are staggered per bucket (by a CRC of its name) so that
    buckets do not all start afresh in the same second."""

    name: str
    limit: int
    period: int
    window_end: int  # unix time at which the current window ends

    @classmethod
    def of(cls, name: str, rate: str, now: int | None = None) -> Bucket:
        limit, period = parse_rate(rate)
        now = int(time.time()) if now is None else now
        end = now - now % period + zlib.crc32(name.encode()) % period
        return cls(name=name, limit=limit, period=period, window_end=end if end > now else end + period)

    @property
    def cache_name(self) -> str:
        return f"apirate:{self.name}:{self.window_end}"

    @property
    def expiry(self) -> int:
        return self.period + COUNTER_FUDGE_SECONDS

    def usage(self, count: int) -> RateWindow:
        return RateWindow(limit=self.limit, count=count, seconds_left=self.window_end - int(time.time()))


class CounterUnavailable(Exception):
    """The Redis that holds the API counters did not answer."""


def _method(request: HttpRequest) -> tuple[str, str]:
    if request.method in READ_METHODS:
        return "read", portal_settings.API_READ_RATE
    return "write", portal_settings.API_WRITE_RATE


def _identity(caller: Caller) -> str:
    user_pk = caller.user.pk if caller.user is not None else "-"
    if caller.auth_type == "api_key":
        key: Any = caller.credential  # the ApiKey of a key's caller (the core names no app's model)
        return f"key:{key.public_id}"
    if caller.auth_type == "oauth2":
        client: Any = caller.client
        return f"oauth:{client.client_id}:{user_pk}"
    return f"user:{user_pk}"


def api_bucket(request: HttpRequest, caller: Caller | None) -> Bucket:
    """The bucket this API request counts in: per credential, read and write apart, or the credential's own
    ``rateLimitPerMinute`` (per key, or per OAuth client across all its tokens) for every request; without a
    valid credential, per client IP."""
    method, rate = _method(request)
    if caller is None:
        return Bucket.of(f"anonymous:{method}:ip:{client_ip(request)}", rate)
    if caller.rate_limit_per_minute:
        owner = f"client:{caller.client.client_id}" if caller.client is not None else _identity(caller)
        return Bucket.of(f"own:{owner}", f"{caller.rate_limit_per_minute}/m")
    return Bucket.of(f"{method}:{_identity(caller)}", rate)


def api_usage(request: HttpRequest, caller: Caller | None) -> RateWindow | None:
    """Count this API request in its bucket. None when per-credential limits are off or Redis is down (fail
    open: the API keeps answering, and the failure is logged)."""
    if not portal_settings.RATELIMITS_ENABLED:
        return None
    bucket = api_bucket(request, caller)
    try:
        return bucket.usage(_count(bucket))
    except CounterUnavailable as exc:
        logger.error("Rate limiting is failing open: the cache is unreachable (%s)", type(exc.__cause__).__name__)
        return None


def _count(bucket: Bucket) -> int:
    handle = request_redis()
    try:
        if handle is not None:
            script: Any = handle.state.get("count_script")
            if script is None:  # registered once per client, then called by its SHA (EVALSHA)
                script = handle.state["count_script"] = handle.client.register_script(COUNT_SCRIPT)
            return int(script(keys=[handle.key(bucket.cache_name)], args=[bucket.expiry]))
        local = caches["default"]  # a per-process cache: add and incr are not round trips
        local.add(bucket.cache_name, 0, bucket.expiry)
        try:
            return int(local.incr(bucket.cache_name))
        except ValueError:  # expired between add and incr
            local.add(bucket.cache_name, 1, bucket.expiry)
            return 1
    except Exception as exc:  # the client's own errors (redis.ConnectionError, TimeoutError, ...)
        raise CounterUnavailable(str(exc)) from exc
