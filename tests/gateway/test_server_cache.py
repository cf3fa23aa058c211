"""The resource server is kept in each process by the credential cache (``portal.credential_cache``): a known server
costs ``/gateway/auth`` no query, and a disabled server or a rotated secret is refused at the very next call, in
this process and in every other one."""

from __future__ import annotations

import os

import pytest
import requests
from django.core.cache import caches
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext

from gateway.models import ResourceServer
from gateway.services import resource_server_disable, resource_server_enable, resource_server_rotate_secret
from tests.gateway.conftest import basic
from tests.helpers import redis_is_running

pytestmark = pytest.mark.django_db

URL = "/gateway/auth"
REDIS_BACKEND = "django.core.cache.backends.redis.RedisCache"
REDIS = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/13"
SERVER_TABLE = ResourceServer._meta.db_table
needs_redis = pytest.mark.skipif(not redis_is_running(), reason="needs the Redis server on 127.0.0.1:6379")


@pytest.fixture
def shared_cache():
    caches_setting = {name: {"BACKEND": REDIS_BACKEND, "LOCATION": REDIS, "KEY_PREFIX": "portal"}
                      for name in ("default", "ratelimit")}
    with override_settings(CACHES=caches_setting):
        caches["default"].clear()
        yield
        caches["default"].clear()


def ask(client_id: str, secret: str, key: str) -> tuple[object, list[str]]:
    """The answer and the queries it made that read the resource server."""
    with CaptureQueriesContext(connection) as queries:
        response = Client().get(URL, HTTP_PORTAL_GATEWAY_AUTHORIZATION=basic(client_id, secret), HTTP_X_API_KEY=key)
    return response, [query["sql"] for query in queries if SERVER_TABLE in query["sql"]]


def code(response) -> str | None:
    return response.json()["code"] if response.status_code == 403 else None


@needs_redis
def test_a_known_server_costs_no_query(shared_cache, server, admin_key, django_assert_num_queries):
    resource_server, secret = server
    first, first_reads = ask(resource_server.client_id, secret, admin_key)
    assert first.status_code == 200 and len(first_reads) == 1
    ask(resource_server.client_id, secret, admin_key)  # the key's last use is written once a minute: now done

    with django_assert_num_queries(0):
        second = Client().get(URL, HTTP_PORTAL_GATEWAY_AUTHORIZATION=basic(resource_server.client_id, secret),
                              HTTP_X_API_KEY=admin_key)
    assert second.status_code == 200
    assert second["Portal-Scopes"] == "apps:read orders:read orders:write"
    assert second["Portal-Organization"] == "acme"


@needs_redis
def test_a_wrong_secret_is_refused_from_the_cache_and_the_right_one_still_works(shared_cache, server, admin_key):
    resource_server, secret = server
    assert ask(resource_server.client_id, secret, admin_key)[0].status_code == 200
    wrong, reads = ask(resource_server.client_id, secret[:-1] + ("a" if secret[-1] != "a" else "b"), admin_key)
    assert code(wrong) == "GATEWAY_REFUSED" and reads == []
    assert ask(resource_server.client_id, secret, admin_key)[0].status_code == 200


@needs_redis
def test_disabling_a_cached_server_refuses_it_at_the_next_call_until_enabled(shared_cache, server, admin_key):
    resource_server, secret = server
    for _ in range(2):
        assert ask(resource_server.client_id, secret, admin_key)[0].status_code == 200

    resource_server_disable(server=resource_server, actor=None)
    refused, reads = ask(resource_server.client_id, secret, admin_key)
    assert code(refused) == "GATEWAY_REFUSED" and len(reads) == 1

    resource_server_enable(server=resource_server, actor=None)
    assert ask(resource_server.client_id, secret, admin_key)[0].status_code == 200


@needs_redis
def test_a_rotated_secret_is_refused_at_the_next_call_and_the_new_one_works(shared_cache, server, admin_key):
    resource_server, old_secret = server
    for _ in range(2):
        assert ask(resource_server.client_id, old_secret, admin_key)[0].status_code == 200

    _rotated, new_secret = resource_server_rotate_secret(server=resource_server, actor=None)
    assert code(ask(resource_server.client_id, old_secret, admin_key)[0]) == "GATEWAY_REFUSED"
    assert ask(resource_server.client_id, new_secret, admin_key)[0].status_code == 200


@needs_redis
def test_a_deleted_server_is_refused_at_the_next_call(shared_cache, server, admin_key):
    resource_server, secret = server
    for _ in range(2):
        assert ask(resource_server.client_id, secret, admin_key)[0].status_code == 200
    ResourceServer.objects.get(pk=resource_server.pk).delete()
    assert code(ask(resource_server.client_id, secret, admin_key)[0]) == "GATEWAY_REFUSED"


def test_without_a_shared_redis_the_server_is_read_on_every_call(server, admin_key, settings):
    settings.CACHES = {name: {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": name}
                       for name in ("default", "ratelimit")}
    settings.REDIS_CLUSTER_URL = ""
    resource_server, secret = server
    for _ in range(3):
        response, reads = ask(resource_server.client_id, secret, admin_key)
        assert response.status_code == 200 and len(reads) == 1


# Two servers of two workers each (the pattern of tests/portal/test_credential_cache_servers.py) ------------------

@pytest.mark.django_db(transaction=True)
def test_a_server_disabled_or_rotated_elsewhere_is_refused_by_every_worker_at_once(make_server, admin_key):
    from django.conf import settings

    if not settings.REDIS_URL or connection.vendor != "postgresql":
        pytest.skip("needs REDIS_URL and PostgreSQL (the second run of .ci/run)")
    from tests.portal.test_credential_cache_servers import server_environment, start_server, statuses

    env = server_environment()
    started = [start_server(env) for _ in range(2)]
    try:
        bases = [base for _process, base in started]
        resource_server, secret = make_server()

        def headers(server_secret: str) -> dict[str, str]:
            return {"Portal-Gateway-Authorization": basic(resource_server.client_id, server_secret),
                    "X-API-Key": admin_key}

        for base in bases:
            assert statuses(base, headers(secret), path=URL) == {200}

        _rotated, new_secret = resource_server_rotate_secret(server=resource_server, actor=None)
        for base in bases:
            assert statuses(base, headers(secret), path=URL) == {403}
            assert statuses(base, headers(new_secret), path=URL) == {200}

        resource_server_disable(server=ResourceServer.objects.get(pk=resource_server.pk), actor=None)
        for base in bases:
            assert statuses(base, headers(new_secret), path=URL) == {403}
        assert requests.get(bases[0] + URL, headers=headers(new_secret), timeout=30).json()["code"] \
            == "GATEWAY_REFUSED"
    finally:
        for process, _base in started:
            process.terminate()
            process.wait(timeout=30)
