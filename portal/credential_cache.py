"""The credential cache: each process keeps the API keys and OAuth access tokens it has verified in its own memory,
and Redis tells it when to forget one (server-assisted client-side caching, RESP3 ``CLIENT TRACKING``), so a known
credential costs no network round trip and no query (section 20 of the contract).

    changed(dependency("key", public_id))                 # a write: every process forgets what depends on it
    verified_row("key", public_id, query=..., columns=..., depends_on=...)   # a request's credential row

How it holds:

- **Generations.** A cached row names what it depends on (``dependency()``: the key or token, its client, its
  organizations, its person) and keeps the *generation* each had in Redis (``credgen:<dependency>``, absent
  until the first change) when the row was read. Every change to one of them (model signals, ``changed()``)
  writes a new generation ``<unix time>:<random>``, at once and again after the commit. A row is served only while
  every generation it kept is still the current one.
- **No round trip for that check.** The generations are read over one RESP3 connection per process (per shard on
  a cluster) with ``CLIENT TRACKING ON``, and kept in this process: Redis remembers which keys the connection read
  and pushes an ``invalidate`` message on that same connection when one is written, expires or is evicted (or
  the database is flushed). Before each check the process takes every message already on the socket
  (``Tracker.drain``, a non-blocking poll), so a hit costs a poll and a dict lookup.
- **The race.** A change writes its generation before its transaction commits and again after; Redis puts the
  invalidation on every tracking connection's socket before it answers the writer, so it is there (on one
  host; across hosts, one network hop ahead of the response that tells anybody of the change) before any
  request that comes after the commit. A request that read its row before the commit can only store it with a
  generation it read later: a row is stored only when its generations were read within ``MAX_READ_AGE_SECONDS``
  of the query and none of them is younger than ``BLOCK_SECONDS``, so a copy read just before a change is never
  stored after it. redis-py's own client-side cache (``cache_config``) does the same polling, but needs Redis
  7.4; Debian's is 7.0, hence this small tracker on redis-py's connections.
- **When Redis fails** the tracking connection is dropped with everything it vouched for (messages may have
  been lost), the database answers, and the connection is tried again after ``RETRY_SECONDS``. A change that
  cannot be announced is logged; rows live at most ``CREDENTIAL_CACHE_SECONDS`` in any case.
- **Without the request path's Redis** (``portal.request_redis``), on SQLite, SQLite itself says when anything
  was committed (``portal.sqlite_credential_cache``); on PostgreSQL nothing is cached: a per-process cache could
  not hear of a revocation made on another host.

Rows are checked on every use (expiry, grace period, IP ranges, the constant-time comparison of a key's hash,
suspension, membership), cached or not. The database side is one hand-written indexed query per credential
kind, in the verifiers (``apikeys.verification``, ``oauthapps.verification``), run by ``verified_row``: without
the cache it runs on every request, and building the same query with the ORM measured 20 times its cost.
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import redis
from django.core.signals import setting_changed
from django.db import connection as database
from django.db import transaction
from redis.crc import key_slot

from portal.conf import portal_settings
from portal.request_redis import RequestRedis, request_redis
from portal.row_loader import fetch_row
from portal.sqlite_credential_cache import SQLiteCredentialCache

logger = logging.getLogger(__name__)

BLOCK_SECONDS = 10  # a row depending on something changed this recently is not stored (allows clock skew)
MAX_READ_AGE_SECONDS = 1  # a row whose generations were read longer after its query than this is not stored
RETRY_SECONDS = 1.0  # after a Redis failure, the cache is not tried again for this long
MAX_ROWS = 50_000  # rows kept per process; past that the oldest half is forgotten
MAX_VALUES = 4 * MAX_ROWS  # generations and markers kept per process; past that all are read again
# Generations outlive every row that kept one (CREDENTIAL_CACHE_SECONDS at most) by far.
GENERATION_EXTRA_SECONDS = 3600

# What a cached credential can depend on. A change to any of them stops the cached copies (``changed``).
# ``rs``: a resource server (``gateway``), whose row is cached the same way by client id.
KINDS = frozenset({"key", "tok", "client", "org", "user", "rs"})

Row = dict[str, Any]


def dependency(kind: str, ident: object) -> str:
    """The name of one thing a cached credential depends on, e.g. ``dependency("org", 7) == "org:7"``."""
    if kind not in KINDS:
        raise ValueError(f"Unknown dependency kind {kind!r}")
    return f"{kind}:{ident}"


class Tracker:
    """Values of Redis keys read over tracking connections and kept in this process until Redis invalidates
    them. Thread-safe (one lock); any Redis error drops every connection and every kept value."""

    def __init__(self, handle: RequestRedis, on_forget: Callable[[], None]) -> None:
        self.handle = handle
        self.on_forget = on_forget  # called whenever every kept value goes at once
        self.values: dict[str, bytes | None] = {}
        # redis-py's connections are untyped: Any here, the methods used are connect, send_command,
        # send_packed_command, pack_commands, read_response, can_read, disconnect and _parser.
        self.connections: dict[str, Any] = {}
        self.lock = threading.Lock()
        self.failed_at = 0.0

    def _invalidated(self, message: Sequence[Any]) -> None:
        keys = message[1]
        if keys is None:  # FLUSHDB / FLUSHALL: the generations are gone, so is what they vouched for
            self.values.clear()
            self.on_forget()
            return
        for key in keys:
            self.values.pop(key.decode() if isinstance(key, bytes) else key, None)

    def _connection(self, key: str) -> Any:
        if self.handle.cluster:
            node = self.handle.client.nodes_manager.get_node_from_slot(key_slot(key.encode()))  # type: ignore[union-attr]
            name, host, port = node.name, node.host, node.port
        else:
            name, host, port = "", None, None
        connection = self.connections.get(name)
        if connection is None:
            options = dict(self.handle.connection_options)
            if host is not None:
                options.update(host=host, port=port)
            connection_class: Any = redis.Connection
            connection = connection_class(**options, protocol=3)
            connection.connect()
            # NOLOOP: what this connection writes itself (``set_and_track``) does not invalidate what it keeps.
            connection.send_command("CLIENT", "TRACKING", "ON", "NOLOOP")
            if connection.read_response() not in (b"OK", "OK"):
                raise redis.ConnectionError("CLIENT TRACKING was refused")
            connection._parser.set_invalidation_push_handler(self._invalidated)
            self.connections[name] = connection
        return connection

    def drain(self) -> None:
        """Apply every invalidation already on the sockets (a poll each; no waiting)."""
        for connection in self.connections.values():
            while connection.can_read():
                connection.read_response(push_request=True, timeout=0, disconnect_on_error=False)

    def get(self, keys: Sequence[str]) -> list[bytes | None]:
        """The current values of ``keys``: from this process while Redis has not said otherwise, the rest read
        over the tracking connections (one round trip per shard). Raises redis-py's errors."""
        with self.lock:
            if self.failed_at and time.monotonic() - self.failed_at < RETRY_SECONDS:
                raise redis.ConnectionError("the credential cache is resting after a failure")
            try:
                self.drain()
                if len(self.values) > MAX_VALUES:  # only a cost: what is dropped is read again when needed
                    self.values.clear()
                missing = [key for key in keys if key not in self.values]
                if missing:
                    by_connection: dict[int, tuple[Any, list[str]]] = {}
                    for key in missing:
                        connection = self._connection(key)
                        by_connection.setdefault(id(connection), (connection, []))[1].append(key)
                    for connection, names in by_connection.values():
                        connection.send_packed_command(connection.pack_commands([("GET", name) for name in names]))
                        for name in names:
                            self.values[name] = connection.read_response()
                return [self.values[key] for key in keys]
            except Exception:
                self.reset(failed=True)
                raise

    def set_and_track(self, key: str, value: bytes, seconds: int) -> bool:
        """``SET key value NX EX seconds`` and a tracked ``GET`` of it in one round trip: True when this call set
        it; either way the key's value is kept here until Redis says it changed or expired."""
        with self.lock:
            try:
                self.drain()
                connection = self._connection(key)
                connection.send_packed_command(connection.pack_commands([
                    ("SET", key, value, "NX", "EX", seconds), ("GET", key)]))
                was_set = connection.read_response()
                self.values[key] = connection.read_response()
                return was_set is not None
            except Exception:
                self.reset(failed=True)
                raise

    def forget(self, keys: Sequence[str]) -> None:
        """Drop the kept values of ``keys`` now. Redis's invalidation of a write reaches the tracking socket a little
        after the writer's reply, so a process that wrote a key itself must not wait for it: its very next request
        reads the key again."""
        with self.lock:
            for key in keys:
                self.values.pop(key, None)

    def reset(self, *, failed: bool = False) -> None:
        for connection in self.connections.values():
            try:
                connection.disconnect()
            except Exception:  # noqa: S110 (already broken)
                pass
        self.connections.clear()
        self.values.clear()
        self.on_forget()  # invalidations may have been lost with the connection
        self.failed_at = time.monotonic() if failed else 0.0
        if failed and self.handle.cluster:
            try:
                self.handle.client.nodes_manager.initialize()  # type: ignore[union-attr]
            except Exception:  # noqa: S110 (the next attempt tries again)
                pass


@dataclass(frozen=True)
class Entry:
    row: Any  # the row, or what ``verified_row``'s ``build`` made of it
    generation_keys: tuple[str, ...]
    generations: tuple[bytes | None, ...]
    stored_at: float  # time.monotonic()


class CredentialCache:
    """This process's verified credentials, each served while every generation it kept is current."""

    def __init__(self, handle: RequestRedis) -> None:
        self.handle = handle
        self.entries: dict[str, Entry] = {}
        self.tracker = Tracker(handle, on_forget=self.entries.clear)
        self.generation_prefix = handle.key("credgen:")

    def generation_key(self, dep: str) -> str:
        return self.generation_prefix + dep

    def get(self, kind: str, value: str) -> Any | None:
        """The row of credential ``kind:value`` if it is kept and nothing it depends on changed, else None.
        Redis errors are logged and read as a miss."""
        name = f"{kind}:{value}"
        entry = self.entries.get(name)
        if entry is None:
            return None
        if time.monotonic() - entry.stored_at >= portal_settings.CREDENTIAL_CACHE_SECONDS:
            self.entries.pop(name, None)
            return None
        try:
            current = self.tracker.get(entry.generation_keys)
        except Exception as exc:  # redis-py's errors (ConnectionError, TimeoutError, ResponseError on MOVED, ...)
            logger.warning("Credential cache unreachable, reading the database (%s)", type(exc).__name__)
            return None
        if tuple(current) != entry.generations:
            self.entries.pop(name, None)
            return None
        return entry.row

    def put(self, kind: str, value: str, row: Any, *, read_at: float, depends_on: Iterable[str]) -> None:
        """Keep ``row``, queried at ``read_at`` (``time.monotonic()``), unless one of ``depends_on`` changed in
        the last ``BLOCK_SECONDS`` or its generations could not be read within ``MAX_READ_AGE_SECONDS``."""
        keys = tuple(self.generation_key(dep) for dep in depends_on)
        try:
            generations = self.tracker.get(keys)
        except Exception as exc:
            logger.warning("Credential cache unreachable, not storing (%s)", type(exc).__name__)
            return
        if time.monotonic() - read_at > MAX_READ_AGE_SECONDS:
            return
        now = time.time()
        for generation in generations:
            if generation is not None and now - float(generation.split(b":", 1)[0]) < BLOCK_SECONDS:
                return
        if len(self.entries) >= MAX_ROWS:
            for stale in list(self.entries)[: MAX_ROWS // 2]:
                self.entries.pop(stale, None)
        self.entries[f"{kind}:{value}"] = Entry(row, keys, tuple(generations), time.monotonic())

    def marker_is_set(self, name: str) -> bool:
        """Whether the Redis key ``name`` (under the request path's prefix) exists, read through the tracker:
        no round trip while it stays as it was. A marker this process holds is read as it stood at the request's
        credential check (no second poll of the sockets). Raises redis-py's errors."""
        key = self.handle.key(name)
        known = self.tracker.values.get(key)
        if known is not None:
            return True
        return self.tracker.get([key])[0] is not None

    def set_marker(self, name: str, seconds: int) -> bool:
        """Set the marker ``name`` for ``seconds`` unless it is set (True when this call set it), and keep it
        tracked: the next ``marker_is_set`` costs no round trip. Raises redis-py's errors."""
        return self.tracker.set_and_track(self.handle.key(name), b"1", seconds)

    def bump(self, deps: Sequence[str]) -> None:
        generation = f"{time.time():.3f}:{secrets.token_hex(8)}".encode()
        seconds = portal_settings.CREDENTIAL_CACHE_SECONDS + BLOCK_SECONDS + GENERATION_EXTRA_SECONDS
        keys = [self.generation_key(dep) for dep in deps]
        try:
            pipe = self.handle.client.pipeline(transaction=False)
            for key in keys:
                pipe.set(key, generation, ex=seconds)
            pipe.execute()
        except Exception as exc:
            # Kinds only: a token's dependency is named by its checksum, which has no place in a log.
            logger.error(
                "Credential cache unreachable: could not announce a change (%s) (%s); cached copies expire "
                "within %s seconds", ", ".join(sorted({dep.split(":", 1)[0] for dep in deps})), type(exc).__name__,
                portal_settings.CREDENTIAL_CACHE_SECONDS,
            )
        finally:
            self.tracker.forget(keys)  # this process's own change holds at its next request, pushed or not yet


_sqlite_cache = SQLiteCredentialCache()
_chosen: dict[str, CredentialCache | SQLiteCredentialCache | None] = {}  # "cache": the one of this process


def credential_cache() -> CredentialCache | SQLiteCredentialCache | None:
    """This process's credential cache: told by Redis when to forget a credential, or without Redis on SQLite by
    SQLite itself (``portal.sqlite_credential_cache``). None when it is off (``CREDENTIAL_CACHE_SECONDS`` 0) or
    when nothing shared by every process could say when to forget one (PostgreSQL without Redis). Chosen once per
    process (again after a fork or a change of settings): every request with a credential asks twice."""
    try:
        return _chosen["cache"]
    except KeyError:
        cache = _chosen["cache"] = _choose()
        return cache


def _forget_choice(*, setting: str, **kwargs: Any) -> None:
    if setting in {"PORTAL", "CACHES", "REDIS_CLUSTER_URL", "DATABASES"}:
        _chosen.clear()


setting_changed.connect(_forget_choice)
os.register_at_fork(after_in_child=_chosen.clear)


def _choose() -> CredentialCache | SQLiteCredentialCache | None:
    if portal_settings.CREDENTIAL_CACHE_SECONDS <= 0:
        return None
    handle = request_redis()
    if handle is None:
        return _sqlite_cache if database.vendor == "sqlite" else None
    cache: CredentialCache | None = handle.state.get("credential_cache")
    if cache is None:
        cache = handle.state["credential_cache"] = CredentialCache(handle)
    return cache


def verified_row(kind: str, value: str, *, query: str, columns: Sequence[str],
                 depends_on: Callable[[Row], list[str]],
                 build: Callable[[Row], Any] | None = None) -> tuple[Any, bool]:
    """The row of credential ``kind:value`` and whether it came from the cache: from this process's memory while
    nothing it depends on changed, else from ``query`` (one parameter, ``value``; its select list named by
    ``columns``), then kept. Every row is kept, usable or not: the verifiers check each one on every use.

    With ``build``, what is kept and returned is ``build(row)``, made once per row read rather than on every
    request: it is shared by every request the cache serves, so the caller must not change it (copy it first)."""
    cache = credential_cache()
    if cache is not None:
        kept = cache.get(kind, value)
        if kept is not None:
            return kept, True
    read_at = time.monotonic()
    row = fetch_row(query, [value], columns)
    if row is None:
        return None, False
    kept = row if build is None else build(row)
    if cache is not None:
        cache.put(kind, value, kept, read_at=read_at, depends_on=depends_on(row))
    return kept, False


def changed(*deps: str) -> None:
    """Announce that ``deps`` (names from ``dependency``) changed: every process forgets the rows depending on
    them, and none is kept for ``BLOCK_SECONDS``. Announced at once and, inside a transaction, again once it
    commits: the first keeps working if the second cannot reach Redis, the second covers a request that read the
    database before the commit."""
    cache = credential_cache()
    if cache is None or not deps:
        return
    cache.bump(deps)
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(lambda: cache.bump(deps))
