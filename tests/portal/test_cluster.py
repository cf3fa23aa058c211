"""The request path on a Redis Cluster of three primaries (``REDIS_CLUSTER_URL``, section 20 of the contract): keys,
tokens, rate limits, usage and revocation, with credentials and counters spread over the shards and every script
and MULTI on one of them."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from redis.connection import AbstractConnection

from accounts.organizations.services import organization_reinstate, organization_suspend
from portal.callers import Caller
from portal.request_redis import request_redis
from tests.cluster import flush_cluster, redis_cluster  # noqa: F401 (the fixture)
from usage.models import UsageCount
from usage.recorder import recorder
from usage.services import usage_rollup
from usage.store import PENDING, redis_client

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def on_the_cluster(redis_cluster):  # noqa: F811
    """The request path on the cluster for this test (the cache and the guessing limits stay where they were)."""
    with override_settings(REDIS_CLUSTER_URL=redis_cluster):
        flush_cluster()
        yield
        flush_cluster()


@pytest.fixture(autouse=True)
def round_trips(monkeypatch):
    """Counts what is sent to Redis: every command, script call or pipeline goes out in one
    ``send_packed_command`` of one of redis-py's connections (the cluster client's and the tracker's alike)."""
    sent = []
    real = AbstractConnection.send_packed_command

    def counting(self, command, check_health=True):
        sent.append(command)
        return real(self, command, check_health)

    monkeypatch.setattr(AbstractConnection, "send_packed_command", counting)
    return sent


def hello(client, round_trips=None):
    sent_before = len(round_trips) if round_trips is not None else 0
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/v1/hello")
    return response, len(queries), (len(round_trips) - sent_before) if round_trips is not None else None


def test_a_cached_key_costs_no_query_and_one_round_trip_its_counter(client_a, settings, round_trips):
    assert request_redis().cluster
    first, first_queries, _ = hello(client_a, round_trips)
    assert first.status_code == 200 and first_queries >= 1
    second, queries, commands = hello(client_a, round_trips)
    assert (second.status_code, queries, commands) == (200, 0, 1)  # the counter's script, nothing else
    assert [first["X-RateLimit-Remaining"], second["X-RateLimit-Remaining"]] == ["99", "98"]

    settings.PORTAL = {**settings.PORTAL, "RATELIMITS_ENABLED": False}
    third, queries, commands = hello(client_a, round_trips)
    assert (third.status_code, queries, commands) == (200, 0, 0)  # no round trip at all


def test_revocation_rotation_and_suspension_hold_at_the_next_request(client_a, api_client, app, org, make_key):
    revoked, revoked_plaintext = make_key(app, "READ_ONLY")
    rotated, rotated_plaintext = make_key(app, "READ_ONLY")
    for plaintext in (revoked_plaintext, rotated_plaintext):
        assert hello(api_client(plaintext))[0].status_code == 200
        assert hello(api_client(plaintext))[1] == 0  # cached

    assert client_a.delete(f"/api/v1/api-keys/{revoked.public_id}").status_code == 204
    assert hello(api_client(revoked_plaintext))[0].status_code == 401
    rotation = client_a.post(f"/api/v1/api-keys/{rotated.public_id}/rotate", {"gracePeriodHours": 0}, format="json")
    assert rotation.status_code == 201
    assert hello(api_client(rotated_plaintext))[0].status_code == 401
    assert hello(api_client(rotation.json()["key"]))[0].status_code == 200

    organization_suspend(caller=Caller.system(org))
    assert hello(client_a)[0].status_code == 401
    organization_reinstate(caller=Caller.system(org))
    assert hello(client_a)[0].status_code == 200


def test_a_token_is_cached_and_its_revocation_holds_at_once(app, make_client, api_client):
    client, secret = make_client(app)
    token = Client().post("/oauth/token/", {"grant_type": "client_credentials", "client_id": client.client_id,
                                            "client_secret": secret})
    assert token.status_code == 200, token.content
    bearer = api_client(token.json()["access_token"], header="Bearer")
    assert hello(bearer)[0].status_code == 200
    response, queries, _ = hello(bearer)
    assert (response.status_code, queries) == (200, 0)
    revoked = Client().post("/oauth/revoke/", {"token": token.json()["access_token"], "client_id": client.client_id,
                                               "client_secret": secret})
    assert revoked.status_code == 200
    assert hello(bearer)[0].status_code == 401


def test_rate_limits_are_exact_and_counters_spread_over_the_shards(app, make_key, api_client):
    _, plaintext = make_key(app, "READ_ONLY", rate_limit_per_minute=3)
    limited = api_client(plaintext)
    assert [hello(limited)[0].status_code for _ in range(4)] == [200, 200, 200, 429]

    for _ in range(12):
        assert hello(api_client(make_key(app, "READ_ONLY")[1]))[0].status_code == 200
    client = request_redis().client
    sizes = {node.name: client.dbsize(target_nodes=node) for node in client.get_primaries()}
    assert len(sizes) == 3 and sum(1 for size in sizes.values() if size) >= 2, sizes


def test_usage_is_counted_on_the_cluster_and_rolled_up_once(app, make_key, api_client):
    recorder.discard()
    key, plaintext = make_key(app, "READ_ONLY")
    client = api_client(plaintext)
    for _ in range(3):
        assert client.get("/api/v1/hello").status_code == 200
    assert client.get("/api/v1/hello", {"name": ""}).status_code == 400
    recorder.flush()
    assert redis_client().scard(PENDING) >= 1  # the counts wait on the cluster, under one hash tag
    assert not UsageCount.objects.filter(api_key=key).exists()
    assert usage_rollup() >= 1
    assert usage_rollup() == 0
    minute = UsageCount.objects.get(api_key=key, granularity="minute")
    assert (minute.success, minute.client_errors) == (3, 1)
