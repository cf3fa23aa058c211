"""Which keys get in, and which are refused (always 401 AUTH_FAILED with WWW-Authenticate)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.organizations.services import organization_reinstate, organization_suspend
from apikeys.models import ApiKey
from audit.models import AuditEvent
from portal.callers import Caller
from tests.cluster import delete_request_path_key

pytestmark = pytest.mark.django_db


def assert_refused(response) -> None:
    assert response.status_code == 401
    assert response.json() == {"error": "Authentication failed", "code": "AUTH_FAILED"}
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_no_credential_is_refused(api_client):
    assert_refused(api_client().get("/api/v1/hello"))


@pytest.mark.parametrize(
    "mutate",
    [
        lambda k: k[:-1] + ("A" if k[-1] != "A" else "B"),
        lambda k: "sk_" + k[3:],
        lambda k: k.replace("_live_", "_prod_"),
        lambda k: k.replace("_live_", "_test_"),
        lambda k: k[:-3],
        lambda k: "not a key at all",
    ],
    ids=["bad-checksum", "wrong-prefix", "wrong-env-marker", "env-swapped", "truncated", "garbage"],
)
def test_malformed_keys_are_refused_without_a_database_query(api_client, admin_key, mutate):
    client = api_client(mutate(admin_key))
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/v1/hello")
    assert_refused(response)
    assert len(queries) == 0


def test_well_formed_but_unknown_key_is_refused(api_client, admin_key, settings):
    from apikeys import crypto

    invented, _ = crypto.generate_key(prefix="dp", environment="live")
    assert_refused(api_client(invented).get("/api/v1/hello"))


def test_valid_key_costs_one_query(api_client, admin_key, settings):
    # Without the shared credential cache (tests/portal/test_credential_cache.py: no query at all with it).
    settings.PORTAL = {**settings.PORTAL, "CREDENTIAL_CACHE_SECONDS": 0}
    client = api_client(admin_key)
    client.get("/api/v1/hello")  # first use writes last_used_at
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/v1/hello").status_code == 200
    assert len(queries) == 1


def test_revoked_key_is_refused(api_client, app, make_key):
    key, plaintext = make_key(app, "READ_ONLY")
    ApiKey.objects.filter(pk=key.pk).update(revoked_at=timezone.now())
    assert_refused(api_client(plaintext).get("/api/v1/hello"))


def test_expired_key_is_refused(api_client, app, make_key):
    key, plaintext = make_key(app, "READ_ONLY", expires_in_days=1)
    ApiKey.objects.filter(pk=key.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert_refused(api_client(plaintext).get("/api/v1/hello"))


def test_rotated_key_is_refused_after_its_grace_period(api_client, app, make_key):
    from apikeys.services import api_key_rotate

    key, old = make_key(app, "READ_ONLY")
    _, new = api_key_rotate(caller=Caller.system(app.organization), key=key, grace_period_hours=1)
    ApiKey.objects.filter(pk=key.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert_refused(api_client(old).get("/api/v1/hello"))
    assert api_client(new).get("/api/v1/hello").status_code == 200


def test_rotation_with_no_grace_refuses_the_old_key_at_once(api_client, app, make_key):
    from apikeys.services import api_key_rotate

    key, old = make_key(app, "READ_ONLY")
    api_key_rotate(caller=Caller.system(app.organization), key=key, grace_period_hours=0)
    assert_refused(api_client(old).get("/api/v1/hello"))


def test_suspended_organization_refuses_every_key_until_reinstated(api_client, admin_key, org):
    organization_suspend(caller=Caller.system(org))
    assert_refused(api_client(admin_key).get("/api/v1/hello"))
    organization_reinstate(caller=Caller.system(org))
    assert api_client(admin_key).get("/api/v1/hello").status_code == 200


@pytest.mark.parametrize(
    ("ranges", "remote", "allowed"),
    [
        (["10.0.0.0/8"], "10.1.2.3", True),
        (["10.0.0.0/8"], "192.168.1.1", False),
        (["2001:db8::/32"], "2001:db8::1", True),
        (["2001:db8::/32"], "2001:db9::1", False),
        (["203.0.113.7"], "203.0.113.7", True),
    ],
)
def test_allowed_ips_are_enforced(api_client, app, make_key, ranges, remote, allowed):
    key, plaintext = make_key(app, "READ_ONLY", allowed_ips=ranges)
    response = api_client(plaintext).get("/api/v1/hello", REMOTE_ADDR=remote)
    if allowed:
        assert response.status_code == 200
    else:
        assert_refused(response)
        event = AuditEvent.objects.get(action="api_key.ip_refused")
        assert event.ip_address == remote and event.target_id == str(key.pk)


def test_forwarded_for_is_ignored_unless_proxies_are_trusted(api_client, app, make_key, settings):
    _, plaintext = make_key(app, "READ_ONLY", allowed_ips=["10.0.0.0/8"])
    spoofed = {"REMOTE_ADDR": "192.168.1.1", "HTTP_X_FORWARDED_FOR": "10.0.0.1"}
    assert_refused(api_client(plaintext).get("/api/v1/hello", **spoofed))
    settings.PORTAL = {**settings.PORTAL, "TRUSTED_PROXY_COUNT": 1}
    assert api_client(plaintext).get("/api/v1/hello", **spoofed).status_code == 200


def test_two_different_credentials_are_a_validation_error(api_client, app, make_key, admin_key):
    _, other = make_key(app, "READ_ONLY")
    client = api_client(admin_key)
    response = client.get("/api/v1/hello", HTTP_AUTHORIZATION=f"Bearer {other}")
    assert response.status_code == 400
    assert response.json()["code"] == "VALIDATION_ERROR"
    same = client.get("/api/v1/hello", HTTP_AUTHORIZATION=f"Bearer {admin_key}")
    assert same.status_code == 200


@pytest.mark.parametrize("authorization", ["Basic dXNlcjpwYXNz", "Token abc", "Bearer", "Bearer    "])
def test_other_authorization_schemes_are_refused(api_client, authorization):
    assert_refused(api_client().get("/api/v1/hello", HTTP_AUTHORIZATION=authorization))


def test_credentials_in_the_query_string_are_ignored(api_client, admin_key):
    assert_refused(api_client().get(f"/api/v1/hello?api_key={admin_key}&access_token={admin_key}"))


def test_last_used_is_written_at_most_once_a_minute(api_client, app, make_key):
    key, plaintext = make_key(app, "READ_ONLY")
    client = api_client(plaintext)
    client.get("/api/v1/hello")
    key.refresh_from_db()
    first = key.last_used_at
    assert first is not None
    client.get("/api/v1/hello")
    key.refresh_from_db()
    assert key.last_used_at == first
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=first - timedelta(minutes=2))
    delete_request_path_key(f"cred:touch:key:{key.public_id}")  # the shared cache's minute is over too
    client.get("/api/v1/hello")
    key.refresh_from_db()
    assert key.last_used_at > first - timedelta(minutes=2)
