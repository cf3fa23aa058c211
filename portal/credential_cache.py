"""A shared cache of verified credentials: a request made with a known API key or OAuth access token costs one
Redis round trip, which also counts its rate limit, instead of a database query and a Redis round trip.

Why it is safe (revocation, rotation and suspension hold at once on every worker and host):

- It lives only in a shared cache (``portal.cache.RedisCache``, i.e. ``REDIS_URL``). With a per-process cache
  a change made by one worker could not reach the others, so there it is off and every request reads the
  database.
- A cached record names what it depends on (``key:<public id>``, ``org:<id>``, ``tok:<checksum>``,
  ``client:<id>``, ``user:<id>``), each with the *generation* that thing had when the record was stored.
  Every change to one of them (model signals, at once and again after commit) gives it a new random
  generation, and the script that reads a record serves it only while every generation still matches: the
  check happens inside Redis, in the same round trip.
- A request that read the database just before a change committed must not store what it read just after the
  change was announced: for ``BLOCK_SECONDS`` after a new generation, records depending on it are not stored.
- Only credentials that passed every check are stored, and a hit still goes through the key's own checks
  (expiry, grace period, IP ranges) and the constant-time comparison of its hash.
- Any cache error falls back to the database: authentication never depends on the cache. If a change cannot
  be announced (the cache is unreachable from that host), an error is logged and cached copies expire within
  ``CREDENTIAL_CACHE_SECONDS``.

The gen keys are read from inside the scripts by name, which standalone Redis (the portal's setup) allows.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.cache import caches
from django.core.serializers.json import DjangoJSONEncoder
from django.core.signals import setting_changed
from django.db import transaction
from django.utils.module_loading import import_string

from portal.conf import portal_settings

if TYPE_CHECKING:
    from portal.ratelimit import PrefetchBucket

logger = logging.getLogger(__name__)

BLOCK_SECONDS = 60  # how long after a change records depending on it are not stored
# A row read longer ago than this is not stored: the block above only covers reads younger than itself.
MAX_READ_AGE_SECONDS = 1
TOUCH_SECONDS = 60  # last-used time is written once a minute per credential (section 4 of the contract)

# A record is "<own>|<hash>|<dep>=<gen>,...|<json row>". <own> is "1" when the credential has a rate limit of
# its own (counted by the caller, not here); <hash> is the stored keyed hash of an API key ("" for tokens).
FETCH_SCRIPT = """
local record = redis.call('GET', KEYS[1])
if not record then return false end
local own, stored_hash, deps = string.match(record, '^(%d*)|(%x*)|([^|]*)|')
if not deps then return false end
for dep, gen in string.gmatch(deps, '([^=,]+)=([^,]+)') do
  if redis.call('GET', ARGV[1] .. dep) ~= gen then return false end
end
local count, touched = false, 0
if ARGV[2] ~= '' and stored_hash == ARGV[2] then
  if ARGV[3] ~= '' and own == '' then
    count = redis.call('INCR', KEYS[2])
    if count == 1 then redis.call('EXPIRE', KEYS[2], ARGV[3]) end
  end
  if KEYS[3] and redis.call('SET', KEYS[3], '1', 'NX', 'EX', TOUCH_SECONDS) then touched = 1 end
end
return {record, count, touched}
"""

STORE_SCRIPT = """
local now = tonumber(redis.call('TIME')[1])
local parts = {}
for i = 6, #ARGV - 1 do
  local gen_key = ARGV[1] .. ARGV[i]
  local gen = redis.call('GET', gen_key)
  if not gen then
    gen = '0:' .. ARGV[5]
    redis.call('SET', gen_key, gen)
  elseif now - tonumber(string.match(gen, '^(%d+):')) < tonumber(ARGV[3]) then
    return 0
  end
  parts[#parts + 1] = ARGV[i] .. '=' .. gen
end
redis.call('SET', KEYS[1], ARGV[4] .. table.concat(parts, ',') .. '|' .. ARGV[#ARGV], 'EX', ARGV[2])
if KEYS[2] then redis.call('SET', KEYS[2], '1', 'NX', 'EX', TOUCH_SECONDS) end
return 1
"""

BUMP_SCRIPT = """
local now = redis.call('TIME')[1]
for i = 3, #ARGV do redis.call('SET', ARGV[1] .. ARGV[i], now .. ':' .. ARGV[2]) end
return #ARGV - 2
"""


@dataclass(frozen=True)
class Hit:
    row: list[Any]
    count: int | None  # the bucket's count after this request, when it was counted here
    first_use_this_minute: bool


class SharedCache:
    """The default cache's Redis client, with the names and scripts used here; made once per cache object."""

    def __init__(self, cache) -> None:
        self.client = cache._cache.get_client(None, write=True)
        self.names = cache.make_key("cred:")
        self.generations = cache.make_key("credgen:")
        touch = str(TOUCH_SECONDS)
        # Registered scripts are sent once, then called by their SHA (EVALSHA).
        self.fetch_script = self.client.register_script(FETCH_SCRIPT.replace("TOUCH_SECONDS", touch))
        self.store_script = self.client.register_script(STORE_SCRIPT.replace("TOUCH_SECONDS", touch))
        self.bump_script = self.client.register_script(BUMP_SCRIPT)

    def fetch(self, kind: str, value: str, *, key_hash: str = "", bucket: PrefetchBucket | None = None,
              touch: bool = False) -> Hit | None:
        """The cached row of credential ``kind:value`` if every generation it depends on is current, else None.

        When ``key_hash`` (the keyed hash of a presented API key) equals the stored one, ``bucket`` is counted
        and the once-a-minute ``touch`` marker set, in the same round trip. Errors are logged and read as a
        miss: the caller goes to the database."""
        record = f"{self.names}{kind}:{value}"
        keys = [record, bucket.cache_key if bucket else record]
        if touch:
            keys.append(f"{self.names}touch:{kind}:{value}")
        try:
            answer = self.fetch_script(keys=keys, args=[self.generations, key_hash, bucket.expiry if bucket else ""],
                                       client=self.client)
        except Exception as exc:  # the cache client's own errors (redis.ConnectionError, TimeoutError, ...)
            logger.warning("Credential cache unreachable, reading the database (%s)", type(exc).__name__)
            return None
        if not answer:
            return None
        record, count, touched = answer
        return Hit(row=json.loads(record.split(b"|", 3)[3]), count=count or None, first_use_this_minute=touched == 1)

    def store(self, kind: str, value: str, row: Iterable[Any], *, read_at: float, depends_on: Iterable[str],
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
        header = f"{'1' if own_limit else ''}|{key_hash}|"
        payload = json.dumps(list(row), cls=DjangoJSONEncoder, separators=(",", ":"))
        try:
            self.store_script(keys=keys, client=self.client, args=[
                self.generations, portal_settings.CREDENTIAL_CACHE_SECONDS, BLOCK_SECONDS, header,
                secrets.token_hex(8), *depends_on, payload])
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


def _configured() -> bool:
    """Whether the default cache is the shared Redis one and the credential cache is on (read once per settings)."""
    configured = _memo.get("configured")
    if configured is None:
        from portal.cache import RedisCache

        backend = import_string(settings.CACHES["default"]["BACKEND"])
        configured = _memo["configured"] = (
            issubclass(backend, RedisCache) and portal_settings.CREDENTIAL_CACHE_SECONDS > 0
        )
    return configured


_memo: dict[str, bool] = {}


def _settings_changed(*, setting: str, **kwargs: Any) -> None:
    if setting in {"CACHES", "PORTAL"}:
        _memo.clear()


setting_changed.connect(_settings_changed)


def shared() -> SharedCache | None:
    """The credential cache, or None when the default cache is not shared by every worker (or it is off)."""
    if not _configured():
        return None
    cache = caches["default"]
    handle = cache.__dict__.get("_portal_credentials")
    if handle is None:
        handle = cache.__dict__["_portal_credentials"] = SharedCache(cache)
    return handle


def changed(*deps: str) -> None:
    """Announce that ``deps`` changed: every cached record depending on them stops being served, and none is
    stored for ``BLOCK_SECONDS``. Announced at once and, inside a transaction, again once it commits: the first
    keeps working if the second cannot reach the cache, the second covers a request that read the database
    before the commit."""
    cache = shared()
    if cache is None or not deps:
        return
    cache.bump(deps)
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(lambda: cache.bump(deps))
