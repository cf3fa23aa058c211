"""Django's Redis cache with one ``redis.Redis`` per connection pool instead of one per call.

Django's ``RedisCacheClient.get_client`` makes a new ``redis.Redis`` for every cache call, and each one copies
redis-py's table of about 170 response callbacks: on the token endpoint (its rate limit, the spent-code and
client-secret checks) that was four clients per request, about a tenth of its CPU on PostgreSQL with Redis
(``bench/api_bench.py --profile token --postgres --redis``). A client over a pool is safe to share between
threads, and redis-py's pool reconnects by itself in a forked process, so one per pool is enough (with one
server, one pool). Django names ``get_client`` as the place to override ("custom cache client can be implemented").
"""

from __future__ import annotations

from typing import Any

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


class SharedClientRedisCacheClient(RedisCacheClient):
    def __init__(self, servers: list[str], *args: Any, **kwargs: Any) -> None:
        super().__init__(servers, *args, **kwargs)
        # With one server every call, read or write, uses its one pool: one client serves them all. With several
        # (reads spread over replicas) each call gets its own, as in Django.
        self._single_server = len(servers) == 1
        self._shared: Any = None

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        if not self._single_server:
            return super().get_client(key, write=write)
        if self._shared is None:
            self._shared = super().get_client(key, write=write)
        return self._shared


class RedisCache(DjangoRedisCache):
    """``django.core.cache.backends.redis.RedisCache``, its client shared per pool (the module says why)."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = SharedClientRedisCacheClient
