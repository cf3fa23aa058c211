"""The request path's Redis: the one client each process uses for what every API call touches (the generations
behind the credential cache, ``portal.credential_cache``; the API rate-limit counters, ``portal.api_counters``;
usage counts, ``usage.store``).

- With ``REDIS_CLUSTER_URL`` (any node of a Redis Cluster) it is a ``redis.cluster.RedisCluster``: each key goes
  to the shard of its hash slot. Every script and every MULTI touches the keys of one hash tag only, so it runs on
  one shard (``tagged``).
- Otherwise, when ``CACHES["default"]`` is Django's Redis cache, a ``redis.Redis`` of its first ``LOCATION``, with
  its socket options (Django's cache has no public way to reach its client).
- Otherwise None: nothing is shared between processes, so no credential is cached and counters live in the local
  cache (per process, as start-up warns).

Key names go through the default cache's public ``make_key`` (``portal:1:<name>``), so that a standalone Redis
holds them beside the cache's other keys. The client is made once per process (a forked worker makes its own)
and again when the settings change (tests).
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from typing import Any

import redis
from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.core.signals import setting_changed
from django.utils.module_loading import import_string
from redis import connection as redis_connection
from redis.cluster import RedisCluster

# Options of Django's Redis cache that are Django's own, not redis-py's connection options.
DJANGO_ONLY_OPTIONS = frozenset({"db", "parser_class", "pool_class", "serializer"})
# A Redis outage must not hang requests (section 7 of the contract).
CLUSTER_OPTIONS: dict[str, Any] = {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}

Client = redis.Redis | RedisCluster


@dataclass
class RequestRedis:
    """The client, where its keys live, and per-process state other modules hang on it (made once per client)."""

    client: Client
    cluster: bool
    prefix: str  # prepended to every key name: the default cache's ``make_key("")``
    connection_options: dict[str, Any]  # for the extra connections of ``portal.credential_cache``
    state: dict[str, Any] = field(default_factory=dict)

    def key(self, name: str) -> str:
        return self.prefix + name


def tagged(tag: str, name: str) -> str:
    """``name`` with the hash tag ``{tag}``: every key with the same tag lives in one hash slot, on one shard."""
    return f"{{{tag}}}:{name}"


_lock = threading.Lock()
_memo: dict[str, tuple[int, RequestRedis | None]] = {}


def _make() -> RequestRedis | None:
    prefix = caches["default"].make_key("")
    cluster_url = getattr(settings, "REDIS_CLUSTER_URL", "")
    if cluster_url:
        cluster = RedisCluster.from_url(cluster_url, **CLUSTER_OPTIONS)
        parse_url: Any = redis_connection.parse_url  # untyped in redis-py
        credentials = {k: v for k, v in parse_url(cluster_url).items() if k in {"username", "password"}}
        return RequestRedis(client=cluster, cluster=True, prefix=prefix,
                            connection_options={**CLUSTER_OPTIONS, **credentials})
    config: dict[str, Any] = settings.CACHES["default"]
    if not issubclass(import_string(config["BACKEND"]), RedisCache):
        return None
    location = config["LOCATION"]
    primary = (location.split(",") if isinstance(location, str) else list(location))[0].strip()
    options = {k: v for k, v in config.get("OPTIONS", {}).items() if k not in DJANGO_ONLY_OPTIONS}
    client = redis.Redis.from_url(primary, **options)
    connection_options = {k: v for k, v in client.connection_pool.connection_kwargs.items()
                          if k not in {"protocol", "connection_class"}}
    return RequestRedis(client=client, cluster=False, prefix=prefix, connection_options=connection_options)


def request_redis() -> RequestRedis | None:
    """This process's client of the request path's Redis, or None without one."""
    memo = _memo.get("handle")
    pid = os.getpid()
    if memo is not None and memo[0] == pid:
        return memo[1]
    with _lock:
        memo = _memo.get("handle")
        if memo is None or memo[0] != pid:
            memo = (pid, _make())
            _memo["handle"] = memo
    return memo[1]


def _settings_changed(*, setting: str, **kwargs: Any) -> None:
    if setting in {"CACHES", "REDIS_CLUSTER_URL"}:
        _memo.clear()


setting_changed.connect(_settings_changed)
