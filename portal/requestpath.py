"""The request path: what every API call costs, behind one door. Verifying a credential and counting its request
go through here, and this module owns every Redis key and script they use.

    changed(dependency("key", public_id))    # a write: every cached copy that depends on it stops
    shared().fetch("key", public_id, key_hash=..., bucket=key_bucket(request, public_id))  # a request's key
    api_usage(request, caller)                # its count (taken by the fetch above when it could be)

What it keeps, and why (figures from ``bench/api_bench.py``, 2 gunicorn workers on 2 shared cores):

- **A shared cache of verified credentials** (``shared()``), in the Redis of ``CACHES["default"]``: a known key or
  token costs one Redis round trip and no query. It is only on with a Redis cache shared by every worker (with a
  per-process cache a revocation on one worker could not reach the others) and ``CREDENTIAL_CACHE_SECONDS > 0``.
- **Revocation at once on every worker**: a cached record names what it depends on (``dependency()``, the one
  function that spells those names) with the *generation* each had when it was stored. Every change to one of
  them (model signals, at once and again after commit: ``changed()``) gives it a new random generation, and the
  fetch script serves a record only while every generation still matches, inside Redis, in the same round trip.
  For ``BLOCK_SECONDS`` after a change nothing depending on it is stored, and a row read more than
  ``MAX_READ_AGE_SECONDS`` ago is not stored at all: a request that read the database just before a change
  committed cannot store a stale copy after it. Only credentials that passed every check are stored, and a hit
  still goes through the credential's own checks (expiry, grace period, IP ranges, the constant-time comparison).
- **Counting in the same round trip**: the fetch script also increments the request's API counter (when the
  presented key's hash matches and the key has no limit of its own) and sets the once-a-minute last-used marker.
  A cached key then costs one round trip in all; counted apart it would be two (the benchmark's "limits on"
  against "limits off" case). The counters are this module's own (``apirate:<bucket>:<window end>``), fixed
  windows staggered per bucket, counted by one INCR+EXPIRE script, so every other request (a token, a session,
  a cache miss, an anonymous one) is also counted in one round trip, in the same counter.
- **Scripts openly owned**: the Lua scripts below are registered once per client and then called by their SHA.
  The client is redis-py's, made here from ``CACHES["default"]`` (its ``LOCATION`` and socket ``OPTIONS``): Django's
  cache has no public way to reach its client, and the scripts need one. Key names go through the cache's public
  ``make_key``, so they sit beside the cache's other keys (``portal:1:cred:...``). The gen keys are read from
  inside the scripts by name, which standalone Redis (or a primary with replicas) allows and Redis Cluster does not.
- **Any Redis error falls back**: authentication reads the database, counting fails open (logged); a change that
  cannot be announced is logged, and cached copies expire within ``CREDENTIAL_CACHE_SECONDS``.
- **Without Redis** nothing is cached and counters live in the local cache (per process, as start-up warns).

The database side is one hand-written indexed query per credential kind, in the verifiers
(``apikeys.verification``, ``oauthapps.verification``): with the cache on it runs about once per credential a
minute, but without Redis it runs on every request, and building the same query with the ORM
(``select_related().only()``) measured 20 times the cost of the query on SQLite (2.0 ms against 0.12 ms a
verification), while Django's own cursor with ``Model.from_db`` measured within noise of the raw driver cursor the
code used before (120-144 µs against 74-151 µs), so that trick is gone.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import redis
from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.core.serializers.json import DjangoJSONEncoder
from django.core.signals import setting_changed
from django.db import transaction
from django.http import HttpRequest
from django.utils.module_loading import import_string

from portal.callers import Caller
from portal.conf import portal_settings
from portal.net import client_ip
from portal.ratelimit import RateWindow as Usage  # renamed there; this module is issue 23's
from portal.ratelimit import parse_rate

logger = logging.getLogger(__name__)

BLOCK_SECONDS = 60  # how long after a change records depending on it are not stored
# A row read longer ago than this is not stored: the block above only covers reads younger than itself.
MAX_READ_AGE_SECONDS = 1
TOUCH_SECONDS = 60  # last-used time is written once a minute per credential (section 4 of the contract)
COUNTER_FUDGE_SECONDS = 5  # a counter outlives its window a little, so that a late INCR never starts from 1
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# What a cached credential can depend on. A change to any of them stops the cached copies (``changed``).
KINDS = frozenset({"key", "tok", "client", "org", "user"})


def dependency(kind: str, ident: Any) -> str:
    """The name of one thing a cached credential depends on, e.g. ``dependency("org", 7) == "org:7"``."""
    if kind not in KINDS:
        raise ValueError(f"Unknown dependency kind {kind!r}")
    return f"{kind}:{ident}"


# A record is a JSON object {"deps": {dependency: generation}, "hash": ..., "own": ..., "row": ...}: "hash" is the
# stored keyed hash of an API key ("" for tokens), "own" whether the key has a rate limit of its own (counted by
# ``api_usage``, not here). KEYS: the record, the counter (or the record again), the touch marker (optional).
FETCH_SCRIPT = """
local stored = redis.call('GET', KEYS[1])
if not stored then return false end
local record = cjson.decode(stored)
for dep, gen in pairs(record.deps) do
  if redis.call('GET', ARGV[1] .. dep) ~= gen then return false end
end
local count, touched = false, 0
if ARGV[2] ~= '' and record.hash == ARGV[2] then
  if ARGV[3] ~= '' and not record.own then
    count = redis.call('INCR', KEYS[2])
    if count == 1 then redis.call('EXPIRE', KEYS[2], ARGV[3]) end
  end
  if KEYS[3] and redis.call('SET', KEYS[3], '1', 'NX', 'EX', ARGV[4]) then touched = 1 end
end
return {stored, count, touched}
"""

# A generation is "<unix time of the change>:<random>"; a dependency never changed gets "0:<random>".
# ARGV: gen prefix, record time-out, block seconds, touch seconds, new random, the record's JSON without "deps"
# (an object, spliced in so that its numbers are not rewritten by Lua), then the dependencies.
STORE_SCRIPT = """
local now = tonumber(redis.call('TIME')[1])
local deps = {}
for i = 7, #ARGV do
  local gen_key = ARGV[1] .. ARGV[i]
  local gen = redis.call('GET', gen_key)
  if not gen then
    gen = '0:' .. ARGV[5]
    redis.call('SET', gen_key, gen)
  elseif now - tonumber(string.match(gen, '^(%d+):')) < tonumber(ARGV[3]) then
    return 0
  end
  deps[ARGV[i]] = gen
end
redis.call('SET', KEYS[1], '{"deps":' .. cjson.encode(deps) .. ',' .. string.sub(ARGV[6], 2), 'EX', ARGV[2])
if KEYS[2] then redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[4]) end
return 1
"""

BUMP_SCRIPT = """
local now = redis.call('TIME')[1]
for i = 3, #ARGV do redis.call('SET', ARGV[1] .. ARGV[i], now .. ':' .. ARGV[2]) end
return #ARGV - 2
"""

COUNT_SCRIPT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return count
"""


# Counting ------------------------------------------------------------------------------------------------


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
    def key(self) -> str:
        """The counter's Redis key, beside the default cache's other keys."""
        return caches["default"].make_key(self.cache_name)

    @property
    def expiry(self) -> int:
        return self.period + COUNTER_FUDGE_SECONDS

    def usage(self, count: int) -> Usage:
        return Usage(limit=self.limit, count=count, seconds_left=self.window_end - int(time.time()))


class CounterUnavailable(Exception):
    """The cache that holds the API counters did not answer."""


def _method(request: HttpRequest) -> tuple[str, str]:
    if request.method in READ_METHODS:
        return "read", portal_settings.API_READ_RATE
    return "write", portal_settings.API_WRITE_RATE


def _identity(caller: Caller) -> str:
    if caller.auth_type == "api_key":
        return dependency("key", caller.credential.public_id)
    if caller.auth_type == "oauth2":
        return f"oauth:{caller.client.client_id}:{caller.user.pk if caller.user else '-'}"
    return dependency("user", caller.user.pk)


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


def key_bucket(request: HttpRequest, public_id: str) -> Bucket | None:
    """The bucket of an API key without a limit of its own, for the fetch to count (None when limits are off)."""
    if not portal_settings.RATELIMITS_ENABLED:
        return None
    method, rate = _method(request)
    return Bucket.of(f"{method}:{dependency('key', public_id)}", rate)


COUNTED_ATTRIBUTE = "portal_counted_with_fetch"


def counted_with_fetch(request: HttpRequest, usage: Usage | None) -> None:
    """Note on the request that its count was taken with the credential's fetch (``api_usage`` returns it)."""
    if usage is not None:
        setattr(request, COUNTED_ATTRIBUTE, usage)


def api_usage(request: HttpRequest, caller: Caller | None) -> Usage | None:
    """Count this API request in its bucket. None when per-credential limits are off or the cache is down
    (fail open: the API keeps answering, and the failure is logged)."""
    if not portal_settings.RATELIMITS_ENABLED:
        return None
    if caller is not None:
        counted = getattr(request, COUNTED_ATTRIBUTE, None)
        if counted is not None:
            return counted
    bucket = api_bucket(request, caller)
    try:
        return bucket.usage(_count(bucket))
    except CounterUnavailable as exc:
        logger.error("Rate limiting is failing open: the cache is unreachable (%s)", type(exc.__cause__).__name__)
        return None


def _count(bucket: Bucket) -> int:
    redis_cache = _shared_redis()
    try:
        if redis_cache is not None:
            return redis_cache.count_script(keys=[bucket.key], args=[bucket.expiry], client=redis_cache.client)
        local = caches["default"]  # a per-process cache: add and incr are not round trips
        local.add(bucket.cache_name, 0, bucket.expiry)
        try:
            return local.incr(bucket.cache_name)
        except ValueError:  # expired between add and incr
            local.add(bucket.cache_name, 1, bucket.expiry)
            return 1
    except Exception as exc:  # the cache client's own errors (redis.ConnectionError, TimeoutError, ...)
        raise CounterUnavailable(str(exc)) from exc


# The credential cache ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Hit:
    row: Any
    count: int | None  # the bucket's count after this request, when it was counted here
    first_use_this_minute: bool


class SharedRedis:
    """The Redis of ``CACHES["default"]``, with this module's scripts; made once per settings."""

    def __init__(self, location: str, options: dict[str, Any]) -> None:
        self.client = redis.Redis.from_url(location, **options)
        cache = caches["default"]
        self.names = cache.make_key("cred:")
        self.generations = cache.make_key("credgen:")
        # Registered scripts are sent once, then called by their SHA (EVALSHA).
        self.fetch_script = self.client.register_script(FETCH_SCRIPT)
        self.store_script = self.client.register_script(STORE_SCRIPT)
        self.bump_script = self.client.register_script(BUMP_SCRIPT)
        self.count_script = self.client.register_script(COUNT_SCRIPT)

    def fetch(self, kind: str, value: str, *, key_hash: str = "", bucket: Bucket | None = None,
              touch: bool = False) -> Hit | None:
        """The cached row of credential ``kind:value`` if every generation it depends on is current, else None.

        When ``key_hash`` (the keyed hash of a presented API key) equals the stored one, ``bucket`` is counted
        and the once-a-minute ``touch`` marker set, in the same round trip. Errors are logged and read as a
        miss: the caller goes to the database."""
        record = f"{self.names}{kind}:{value}"
        keys = [record, bucket.key if bucket else record]
        if touch:
            keys.append(f"{self.names}touch:{kind}:{value}")
        args = [self.generations, key_hash, bucket.expiry if bucket else "", TOUCH_SECONDS]
        try:
            answer = self.fetch_script(keys=keys, args=args, client=self.client)
        except Exception as exc:  # the cache client's own errors (redis.ConnectionError, TimeoutError, ...)
            logger.warning("Credential cache unreachable, reading the database (%s)", type(exc).__name__)
            return None
        if not answer:
            return None
        stored, count, touched = answer
        return Hit(row=json.loads(stored)["row"], count=count or None, first_use_this_minute=touched == 1)

    def store(self, kind: str, value: str, row: Any, *, read_at: float, depends_on: Iterable[str],
              key_hash: str = "", own_limit: bool = False, touched: bool = False) -> None:
        """Cache a credential that passed every check, read from the database at ``read_at``
        (``time.monotonic()``), unless that was more than ``MAX_READ_AGE_SECONDS`` ago or one of ``depends_on``
        changed in the last ``BLOCK_SECONDS``. ``touched``: its last-used time was just brought up to date, so
        the next minute's hits need not write it. Errors are logged and ignored."""
        if time.monotonic() - read_at > MAX_READ_AGE_SECONDS:
            return
        keys = [f"{self.names}{kind}:{value}"]
        if touched:
            keys.append(f"{self.names}touch:{kind}:{value}")
        record = json.dumps({"hash": key_hash, "own": own_limit, "row": row}, cls=DjangoJSONEncoder,
                            separators=(",", ":"))
        try:
            self.store_script(keys=keys, client=self.client, args=[
                self.generations, portal_settings.CREDENTIAL_CACHE_SECONDS, BLOCK_SECONDS, TOUCH_SECONDS,
                secrets.token_hex(8), record, *depends_on])
        except Exception as exc:
            logger.warning("Credential cache unreachable, not storing (%s)", type(exc).__name__)

    def bump(self, deps: Iterable[str]) -> None:
        deps = list(deps)
        try:
            self.bump_script(keys=[], args=[self.generations, secrets.token_hex(8), *deps], client=self.client)
        except Exception as exc:
            # Kinds only: a token's dependency is named by its checksum, which has no place in a log.
            logger.error(
                "Credential cache unreachable: could not announce a change (%s) (%s); cached copies expire "
                "within %s seconds", ", ".join(sorted({dep.split(":", 1)[0] for dep in deps})), type(exc).__name__,
                portal_settings.CREDENTIAL_CACHE_SECONDS,
            )


# Options of Django's Redis cache that are Django's own, not redis-py's connection options.
DJANGO_ONLY_OPTIONS = frozenset({"db", "parser_class", "pool_class", "serializer"})

_memo: dict[str, SharedRedis | None] = {}


def _shared_redis() -> SharedRedis | None:
    """The default cache's Redis server, or None when the default cache is not Redis (read once per settings)."""
    if "redis" not in _memo:
        config = settings.CACHES["default"]
        handle = None
        if issubclass(import_string(config["BACKEND"]), RedisCache):
            location = config["LOCATION"]
            primary = (location.split(",") if isinstance(location, str) else list(location))[0]
            options = {k: v for k, v in config.get("OPTIONS", {}).items() if k not in DJANGO_ONLY_OPTIONS}
            handle = SharedRedis(primary.strip(), options)
        _memo["redis"] = handle
    return _memo["redis"]


def _settings_changed(*, setting: str, **kwargs: Any) -> None:
    if setting in {"CACHES", "PORTAL"}:
        _memo.clear()


setting_changed.connect(_settings_changed)


def shared() -> SharedRedis | None:
    """The credential cache, or None when the default cache is not shared by every worker (or it is off)."""
    if portal_settings.CREDENTIAL_CACHE_SECONDS <= 0:
        return None
    return _shared_redis()


def changed(*deps: str) -> None:
    """Announce that ``deps`` (names from ``dependency``) changed: every cached record depending on them stops
    being served, and none is stored for ``BLOCK_SECONDS``. Announced at once and, inside a transaction, again once
    it commits: the first keeps working if the second cannot reach the cache, the second covers a request that
    read the database before the commit."""
    cache = shared()
    if cache is None or not deps:
        return
    cache.bump(deps)
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(lambda: cache.bump(deps))
