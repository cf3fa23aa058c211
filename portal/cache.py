"""Django's Redis cache with a counter increment of one round trip instead of two.

Rate limiting increments a counter on every API request. Django's ``incr`` first asks whether the key
exists (EXISTS), then increments (INCR): two round trips. Here INCR and TTL go together in one pipeline. A
counter is always stored with a time-out, so a key without one was just created by INCR because the counter
had expired in between: that key is removed again and the miss reported as Django does, with ``ValueError``.
"""

from __future__ import annotations

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient

NO_EXPIRY = -1  # what Redis's TTL answers for a key that exists without a time-out


class CounterFriendlyClient(RedisCacheClient):
    def incr(self, key, delta):
        client = self.get_client(key, write=True)
        value, ttl = client.pipeline().incr(key, delta).ttl(key).execute()
        if ttl == NO_EXPIRY:
            client.delete(key)
            raise ValueError(f"Key '{key}' not found.")
        return value


class RedisCache(DjangoRedisCache):
    """Use for caches whose counters are always set with a time-out (rate limits)."""

    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._class = CounterFriendlyClient
