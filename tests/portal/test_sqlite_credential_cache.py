"""The credential cache on SQLite without Redis (``portal.sqlite_credential_cache``): a known key costs no query, and
any write committed to the database, by any connection and by any means, is seen at the next request."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Organization
from apikeys.models import ApiKey
from portal.credential_cache import credential_cache
from portal.sqlite_credential_cache import SQLiteCredentialCache

LOCAL_CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "ratelimit": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "rl"},
}

pytestmark = [
    pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's own change counters"),
]


@pytest.fixture(autouse=True)
def without_redis():
    with override_settings(REDIS_CLUSTER_URL="", CACHES=LOCAL_CACHES):
        yield


def hello(client) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/v1/hello")
    return response.status_code, len(queries)


def elsewhere(work) -> None:
    """Run ``work`` on another connection (a thread of its own) and commit it there."""
    def run() -> None:
        try:
            work()
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()


def warm(client) -> None:
    # The first use reads the key and writes its last use; that write (as any) makes the next request read it
    # again; from then on it comes from memory.
    assert [hello(client) for _ in range(3)] == [(200, 2), (200, 1), (200, 0)]


@pytest.fixture
def key_client(api_client, app, make_key):
    key, plaintext = make_key(app, "READ_ONLY")
    client = api_client(plaintext)
    warm(client)
    return key, client


@pytest.mark.django_db(transaction=True)
def test_sqlite_without_redis_has_a_cache_of_its_own():
    assert isinstance(credential_cache(), SQLiteCredentialCache)


@pytest.mark.django_db(transaction=True)
def test_revoking_a_known_key_through_the_api_refuses_it_at_the_next_request(key_client, client_a):
    key, client = key_client
    assert client_a.delete(f"/api/v1/api-keys/{key.public_id}").status_code == 204
    assert hello(client)[0] == 401


@pytest.mark.django_db(transaction=True)
def test_a_write_that_sends_no_signal_is_seen_too(key_client):
    key, client = key_client
    ApiKey.objects.filter(pk=key.pk).update(revoked_at=timezone.now())  # no model signal
    assert hello(client)[0] == 401


@pytest.mark.django_db(transaction=True)
def test_a_change_committed_by_another_connection_is_seen_at_the_next_request(key_client, org):
    _key, client = key_client
    elsewhere(lambda: Organization.objects.filter(pk=org.pk).update(suspended_at=timezone.now()))
    assert hello(client)[0] == 401
    elsewhere(lambda: Organization.objects.filter(pk=org.pk).update(suspended_at=None))
    assert hello(client) == (200, 1)


@pytest.mark.django_db(transaction=True)
def test_a_known_key_still_expires_on_time(api_client, app, make_key, monkeypatch):
    _key, plaintext = make_key(app, "READ_ONLY", expires_in_days=1)
    client = api_client(plaintext)
    warm(client)
    later = timezone.now() + timedelta(days=2)
    monkeypatch.setattr(timezone, "now", lambda: later)
    assert hello(client) == (401, 0)  # refused from memory: expiry is checked on every use


@pytest.mark.django_db(transaction=True)
def test_last_used_is_written_once_a_minute_not_on_every_known_request(key_client):
    key, client = key_client
    assert ApiKey.objects.get(pk=key.pk).last_used_at is not None
    for _ in range(3):
        assert hello(client) == (200, 0)


@pytest.mark.django_db
def test_rows_read_inside_a_transaction_are_not_kept(api_client, app, make_key):
    # A row read inside a transaction may be rolled back, and a rollback moves neither of SQLite's counters.
    _key, plaintext = make_key(app, "READ_ONLY")
    client = api_client(plaintext)
    assert [hello(client) for _ in range(3)] == [(200, 2), (200, 1), (200, 1)]
