"""The credential cache (each process's memory, invalidated by Redis): a known key or token costs no query and no
round trip, and every change to what it depends on refuses it at the next request, on every worker."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.core.cache import caches
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Membership
from accounts.organizations.services import organization_reinstate, organization_suspend
from apikeys import crypto
from apikeys.models import ApiKey
from portal.callers import Caller
from portal.credential_cache import changed, credential_cache
from portal.request_redis import request_redis
from portal.sqlite_credential_cache import SQLiteCredentialCache
from tests.cluster import delete_request_path_key
from tests.helpers import redis_is_running

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not redis_is_running(), reason="needs the Redis server on 127.0.0.1:6379"),
]

REDIS_BACKEND = "django.core.cache.backends.redis.RedisCache"
REDIS = "redis://127.0.0.1:6379/13"
SHARED_CACHES = {
    "default": {"BACKEND": REDIS_BACKEND, "LOCATION": REDIS, "KEY_PREFIX": "portal"},
    "ratelimit": {"BACKEND": REDIS_BACKEND, "LOCATION": REDIS, "KEY_PREFIX": "portal"},
}


@pytest.fixture(autouse=True)
def shared_cache():
    with override_settings(CACHES=SHARED_CACHES):
        caches["default"].clear()
        yield
        caches["default"].clear()


def hello(client):
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/v1/hello")
    return response, len(queries)


def warm(client) -> None:
    """First use: read from the database and stored; the second is served from the cache."""
    assert hello(client)[0].status_code == 200
    response, queries = hello(client)
    assert (response.status_code, queries) == (200, 0)


def test_a_known_key_costs_no_query_and_its_requests_are_still_counted(client_a):
    first, first_queries = hello(client_a)
    assert first.status_code == 200 and first_queries >= 1
    second, second_queries = hello(client_a)
    third, _ = hello(client_a)
    assert second.status_code == 200 and second_queries == 0
    # The fetch counts in the same counter django-ratelimit counted the first request in.
    assert [r["X-RateLimit-Remaining"] for r in (first, second, third)] == ["99", "98", "97"]


def test_the_cache_is_not_used_when_it_is_not_shared(client_a):
    with override_settings(REDIS_CLUSTER_URL="", CACHES={
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "ratelimit": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "rl"},
    }):
        if connection.vendor == "sqlite":  # SQLite tells every connection of a commit (test_sqlite_credential_cache)
            assert isinstance(credential_cache(), SQLiteCredentialCache)
        else:
            assert credential_cache() is None  # a per-process cache could not be told of a revocation elsewhere
        hello(client_a)
        assert hello(client_a)[1] == 1  # one query (and on SQLite nothing read inside a transaction is kept)


def test_the_cache_can_be_turned_off(client_a, settings):
    settings.PORTAL = {**settings.PORTAL, "CREDENTIAL_CACHE_SECONDS": 0}
    hello(client_a)
    assert hello(client_a)[1] == 1


def test_revoking_a_cached_key_refuses_it_at_the_next_request(client_a, api_client, app, make_key):
    key, plaintext = make_key(app, "READ_ONLY")
    victim = api_client(plaintext)
    warm(victim)
    assert client_a.delete(f"/api/v1/api-keys/{key.public_id}").status_code == 204
    assert hello(victim)[0].status_code == 401


def test_a_rotated_key_past_its_grace_is_refused_from_the_cache(client_a, api_client, app, make_key):
    key, plaintext = make_key(app, "READ_ONLY")
    old = api_client(plaintext)
    warm(old)
    response = client_a.post(f"/api/v1/api-keys/{key.public_id}/rotate", {"gracePeriodHours": 0}, format="json")
    assert response.status_code == 201
    assert hello(old)[0].status_code == 401
    assert hello(api_client(response.json()["key"]))[0].status_code == 200


def test_suspending_the_organization_refuses_its_cached_keys_until_reinstated(client_a, org):
    warm(client_a)
    organization_suspend(caller=Caller.system(org))
    assert hello(client_a)[0].status_code == 401
    organization_reinstate(caller=Caller.system(org))
    assert hello(client_a)[0].status_code == 200


def test_a_cached_key_still_expires_on_time(api_client, app, make_key, monkeypatch):
    _, plaintext = make_key(app, "READ_ONLY", expires_in_days=1)
    client = api_client(plaintext)
    warm(client)
    later = timezone.now() + timedelta(days=2)
    monkeypatch.setattr(timezone, "now", lambda: later)
    assert hello(client)[0].status_code == 401


def test_a_wrong_secret_for_a_cached_key_is_refused_and_not_counted_against_the_key(client_a, admin_key,
                                                                                   api_client):
    warm(client_a)  # two requests counted
    public_id = crypto.parse_key(admin_key, prefix="dp").public_id
    forged, _ = crypto.generate_key(prefix="dp", environment="live", public_id=public_id)
    for _ in range(3):
        assert hello(api_client(forged))[0].status_code == 401
    assert hello(client_a)[0]["X-RateLimit-Remaining"] == "97"


def test_a_key_with_its_own_limit_counts_in_its_own_bucket_from_the_cache(api_client, app, make_key):
    _, plaintext = make_key(app, "READ_ONLY", rate_limit_per_minute=3)
    client = api_client(plaintext)
    statuses = [hello(client)[0] for _ in range(4)]
    assert [r.status_code for r in statuses] == [200, 200, 200, 429]
    assert statuses[1]["X-RateLimit-Limit"] == "3"


def test_last_used_is_written_once_a_minute_not_on_every_cached_request(client_a, admin_key):
    warm(client_a)
    public_id = crypto.parse_key(admin_key, prefix="dp").public_id
    key = ApiKey.objects.get(public_id=public_id)
    assert key.last_used_at is not None
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=timezone.now() - timedelta(minutes=5))
    delete_request_path_key(f"cred:touch:key:{public_id}")  # as if the minute had passed
    assert hello(client_a)[1] == 1  # the one UPDATE of this minute
    assert timezone.now() - ApiKey.objects.get(pk=key.pk).last_used_at < timedelta(seconds=5)
    assert hello(client_a)[1] == 0


def test_the_database_answers_when_the_cache_is_down(client_a, admin_key):
    down = "redis://127.0.0.1:1/0"
    with override_settings(REDIS_CLUSTER_URL="", CACHES={
        "default": {"BACKEND": REDIS_BACKEND, "LOCATION": down, "KEY_PREFIX": "portal",
                    "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2}},
        "ratelimit": {"BACKEND": REDIS_BACKEND, "LOCATION": down, "KEY_PREFIX": "portal",
                      "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2}},
    }):
        response, queries = hello(client_a)
    assert response.status_code == 200 and queries >= 1


def test_a_change_stops_the_cached_copy_and_blocks_storing_it_again_for_a_while():
    """The race of a request that read the database just before a change committed: whether its copy is stored
    before the change is announced or after, it is never served."""
    cache = credential_cache()
    cache.put("key", "race1", {"row": "stale"}, read_at=time.monotonic(), depends_on=["key:race1"])
    assert cache.get("key", "race1") == {"row": "stale"}
    changed("key:race1")
    assert cache.get("key", "race1") is None

    changed("key:race2")
    cache.put("key", "race2", {"row": "stale"}, read_at=time.monotonic(), depends_on=["key:race2"])
    assert cache.get("key", "race2") is None


def test_a_change_inside_a_transaction_is_announced_again_after_commit(django_capture_on_commit_callbacks):
    credential_cache().put("key", "tx", {"row": 1}, read_at=time.monotonic(), depends_on=["org:42"])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        changed("org:42")
    assert len(callbacks) == 1
    assert credential_cache().get("key", "tx") is None
    client = request_redis().client
    before = client.get(caches["default"].make_key("credgen:org:42"))
    callbacks[0]()
    assert client.get(caches["default"].make_key("credgen:org:42")) != before


# OAuth access tokens -------------------------------------------------------------------------------------


def access_token(client, secret) -> str:
    response = Client().post("/oauth/token/", {"grant_type": "client_credentials", "client_id": client.client_id,
                                               "client_secret": secret})
    assert response.status_code == 200, response.content
    return response.json()["access_token"]


def test_a_known_token_costs_no_query_and_revocation_holds_at_once(app, make_client, api_client):
    client, secret = make_client(app)
    token = access_token(client, secret)
    bearer = api_client(token, header="Bearer")
    assert hello(bearer)[0].status_code == 200
    response, queries = hello(bearer)
    assert response.status_code == 200 and queries == 0
    revoked = Client().post("/oauth/revoke/", {"token": token, "client_id": client.client_id,
                                               "client_secret": secret})
    assert revoked.status_code == 200
    assert hello(bearer)[0].status_code == 401


def test_revoking_the_client_refuses_its_cached_tokens(app, make_client, api_client, client_a):
    client, secret = make_client(app)
    bearer = api_client(access_token(client, secret), header="Bearer")
    hello(bearer)
    assert client_a.delete(f"/api/v1/oauth-clients/{client.pk}").status_code == 204
    assert hello(bearer)[0].status_code == 401


def test_a_persons_cached_token_follows_their_membership(login, developer, org, app, make_client, api_client):
    from tests.oauthapps.conftest import REDIRECT_URI, pkce_pair, query_of

    client, secret = make_client(app, grants=("authorization_code",), scopes=("apps:read",))
    browser = login(developer)
    verifier, challenge = pkce_pair()
    query = {"response_type": "code", "client_id": client.client_id, "redirect_uri": REDIRECT_URI,
             "scope": "apps:read", "state": "s", "code_challenge": challenge, "code_challenge_method": "S256"}
    browser.get("/oauth/authorize/", query)
    consented = browser.post("/oauth/authorize/", {**query, "organization": org.slug, "allow": "Authorize"})
    code = query_of(consented["Location"])["code"]
    tokens = Client().post("/oauth/token/", {"grant_type": "authorization_code", "code": code,
                                             "redirect_uri": REDIRECT_URI, "code_verifier": verifier,
                                             "client_id": client.client_id, "client_secret": secret}).json()
    bearer = api_client(tokens["access_token"], header="Bearer")
    assert hello(bearer)[0].status_code == 200
    hello(bearer)
    Membership.objects.get(user=developer, organization=org).delete()
    assert hello(bearer)[0].status_code == 401


def test_a_change_the_cache_cannot_hear_is_logged_by_kind_only(caplog):
    down = "redis://127.0.0.1:1/0"
    checksum = "f" * 64
    with override_settings(REDIS_CLUSTER_URL="", CACHES={
        "default": {"BACKEND": REDIS_BACKEND, "LOCATION": down,
                    "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2}},
        "ratelimit": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    }):
        changed(f"tok:{checksum}", "org:7")
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 1 and "(org, tok)" in errors[0]
    assert checksum not in caplog.text


def test_a_row_read_long_ago_is_not_stored():
    cache = credential_cache()
    cache.put("key", "old", {"row": 1}, read_at=time.monotonic() - 5, depends_on=["key:old"])
    assert cache.get("key", "old") is None
    cache.put("key", "old", {"row": 1}, read_at=time.monotonic(), depends_on=["key:old"])
    assert cache.get("key", "old") == {"row": 1}
