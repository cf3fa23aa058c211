from __future__ import annotations

import pytest
import redis
from django.core.cache import caches
from django.test import override_settings

from tests.helpers import redis_is_running

pytestmark = pytest.mark.skipif(not redis_is_running(), reason="needs the Redis server on 127.0.0.1:6379")

REDIS_BACKEND = "django.core.cache.backends.redis.RedisCache"
CACHES = {"default": {"BACKEND": REDIS_BACKEND, "LOCATION": "redis://127.0.0.1:6379/12"}}


@override_settings(CACHES=CACHES)
def test_incr_counts_from_zero_and_keeps_the_time_out():
    cache = caches["default"]
    cache.clear()
    assert cache.add("counter", 0, 60)
    assert [cache.incr("counter") for _ in range(3)] == [1, 2, 3]
    client = redis.Redis.from_url(CACHES["default"]["LOCATION"])
    assert 0 < client.ttl(cache.make_key("counter")) <= 60


@override_settings(CACHES=CACHES)
def test_incr_of_a_missing_key_raises_and_leaves_nothing_behind():
    cache = caches["default"]
    cache.clear()
    with pytest.raises(ValueError):
        cache.incr("gone")
    assert cache.get("gone") is None


RATELIMIT_CACHES = {**CACHES, "ratelimit": {"BACKEND": REDIS_BACKEND,
                                            "LOCATION": "redis://127.0.0.1:6379/12"}}


@override_settings(CACHES=RATELIMIT_CACHES)
def test_rate_limit_cache_counts_add_then_incr_as_django_ratelimit_calls_them():
    cache = caches["ratelimit"]
    cache.clear()
    assert cache.add("bucket", 1, 60) is True  # first request of the window
    counts = []
    for _ in range(3):
        assert cache.add("bucket", 1, 60) is False
        counts.append(cache.incr("bucket"))
    assert counts == [2, 3, 4]
    assert cache.get("bucket") == 4
    assert 0 < redis.Redis.from_url(CACHES["default"]["LOCATION"]).ttl(cache.make_key("bucket")) <= 60


@override_settings(CACHES=RATELIMIT_CACHES)
def test_rate_limit_cache_reads_without_counting():
    cache = caches["ratelimit"]
    cache.clear()
    assert cache.add("failures", 0, 60) is True
    assert cache.add("failures", 0, 60) is False
    assert cache.get("failures") == 0
    assert cache.incr("failures") == 1
