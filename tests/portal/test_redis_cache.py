"""The cache on Redis shares one redis-py client per pool (``portal.redis_cache``) and still works as Django's."""

from __future__ import annotations

import pytest
from django.core.cache import caches
from django.test import override_settings

from tests.helpers import redis_is_running

pytestmark = pytest.mark.skipif(not redis_is_running(), reason="needs the Redis server on 127.0.0.1:6379")

CACHES = {
    "default": {"BACKEND": "portal.redis_cache.RedisCache", "LOCATION": "redis://127.0.0.1:6379/12",
                "KEY_PREFIX": "shared-client-test"},
    "ratelimit": {"BACKEND": "portal.redis_cache.RedisCache", "LOCATION": "redis://127.0.0.1:6379/12",
                  "KEY_PREFIX": "shared-client-test"},
}


@override_settings(CACHES=CACHES)
def test_every_call_uses_one_client_and_the_cache_behaves_as_djangos():
    cache = caches["default"]
    try:
        assert cache.add("k", 1, 30) is True
        assert cache.add("k", 2, 30) is False
        assert cache.incr("k") == 2
        cache.set_many({"a": "x", "b": [1, 2]}, 30)
        assert cache.get_many(["a", "b", "missing"]) == {"a": "x", "b": [1, 2]}
        cache.delete("a")
        assert cache.get("a", "gone") == "gone"
        clients = {id(cache._cache.get_client(write=write)) for write in (True, False, True)}
        assert len(clients) == 1
    finally:
        cache.delete_many(["k", "a", "b"])
