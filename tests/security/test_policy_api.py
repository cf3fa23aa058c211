"""The organization's credential policy over HTTP (contract section 19): GET/PUT, its 400s, its audit, and its
enforcement wherever a key or OAuth client is made or changed through the API."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apikeys.models import ApiKey
from audit.models import AuditEvent
from portal import scopes as scope_registry

pytestmark = pytest.mark.django_db

POLICY = "/api/v1/organization/policy"
STRICT = {"maxKeyLifetimeDays": 30, "allowedScopes": ["apps:read", "keys:read", "keys:write"],
          "liveKeysNeedIpRanges": True, "revokeUnusedKeysAfterDays": 60}


def _put(client, **changes):
    return client.put(POLICY, {**STRICT, **changes}, format="json")


def test_default_policy_allows_every_scope_and_sets_no_limit(client_a) -> None:
    response = client_a.get(POLICY)
    assert response.status_code == 200
    assert response.json() == {"maxKeyLifetimeDays": None, "allowedScopes": list(scope_registry.registry()),
                               "liveKeysNeedIpRanges": False, "revokeUnusedKeysAfterDays": None, "violations": []}


def test_put_sets_all_four_fields_and_answers_200_with_the_policy(client_a) -> None:
    response = _put(client_a, violations=[{"ignored": True}])
    assert response.status_code == 200, response.json()
    body = response.json()
    assert {k: body[k] for k in STRICT} == STRICT
    assert client_a.get(POLICY).json()["allowedScopes"] == STRICT["allowedScopes"]


@pytest.mark.parametrize("missing", list(STRICT))
def test_put_without_a_field_is_a_400_naming_it(client_a, missing) -> None:
    body = {k: v for k, v in STRICT.items() if k != missing}
    response = client_a.put(POLICY, body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "VALIDATION_ERROR"
    assert missing in response.json()["details"]


@pytest.mark.parametrize(("field", "value"), [
    ("maxKeyLifetimeDays", 0), ("maxKeyLifetimeDays", 366), ("maxKeyLifetimeDays", "30"),
    ("revokeUnusedKeysAfterDays", 29), ("revokeUnusedKeysAfterDays", 366),
    ("liveKeysNeedIpRanges", "yes"), ("allowedScopes", ["orders:nope"]), ("allowedScopes", "apps:read"),
])
def test_out_of_range_values_are_400s_naming_the_field(client_a, field, value) -> None:
    response = _put(client_a, **{field: value})
    assert response.status_code == 400
    assert field in response.json()["details"]


def test_admin_cannot_be_allowed_while_another_scope_is_left_out(client_a) -> None:
    everything_but_audit = [s for s in scope_registry.registry() if s != "audit:read"]
    response = _put(client_a, allowedScopes=everything_but_audit)
    assert response.status_code == 400
    message = " ".join(response.json()["details"]["allowedScopes"])
    assert "admin" in message and "audit:read" in message


def test_admin_may_be_allowed_without_the_openid_connect_scopes(client_a) -> None:
    portal_only = [s for s in scope_registry.registry() if s not in scope_registry.IDENTITY_SCOPES]
    response = _put(client_a, allowedScopes=portal_only)
    assert response.status_code == 200, response.json()
    assert response.json()["allowedScopes"] == portal_only


def test_listing_every_scope_means_no_restriction(client_a) -> None:
    response = _put(client_a, allowedScopes=list(scope_registry.registry()))
    assert response.status_code == 200
    assert response.json()["allowedScopes"] == list(scope_registry.registry())


def test_policy_needs_the_admin_scope(app, make_key, api_client) -> None:
    standard = api_client(make_key(app, "STANDARD")[1])
    response = standard.get(POLICY)
    assert response.status_code == 403
    assert response.json()["code"] == "INSUFFICIENT_SCOPE"
    assert response.json()["requiredScopes"] == ["admin"]
    assert standard.put(POLICY, STRICT, format="json").status_code == 403


def test_policy_change_is_audited_with_before_and_after_and_revokes_nothing(client_a, app, make_key) -> None:
    old, plaintext = make_key(app, "ADMIN", environment="live")
    assert _put(client_a).status_code == 200
    event = AuditEvent.objects.get(action="organization.policy_changed")
    assert event.metadata["before"]["maxKeyLifetimeDays"] is None
    assert event.metadata["after"]["maxKeyLifetimeDays"] == 30
    assert event.metadata["after"]["allowedScopes"] == STRICT["allowedScopes"]
    old.refresh_from_db()
    assert old.revoked_at is None and old.scopes == list(scope_registry.registry())
    assert client_a.get("/api/v1/hello?name=Test").status_code == 200


def test_violations_list_each_breaking_credential_with_a_way_to_comply(client_a, app, make_key, make_client) -> None:
    breaking, _ = make_key(app, "STANDARD", name="wide", environment="live")
    fine, _ = make_key(app, None, scopes=["keys:read"], name="narrow", environment="test", expires_in_days=7)
    client, _ = make_client(app, scopes=["apps:read", "webhooks:read"])
    body = _put(client_a).json()
    by_id = {v["id"]: v for v in body["violations"]}
    assert fine.public_id not in by_id
    assert by_id[breaking.public_id]["type"] == "api_key"
    assert by_id[breaking.public_id]["name"] == "wide"
    assert set(by_id[breaking.public_id]["breaks"]) == {"maxKeyLifetimeDays", "allowedScopes",
                                                        "liveKeysNeedIpRanges"}
    assert "revoke" in by_id[breaking.public_id]["actions"]
    assert by_id[client.pk] == {"type": "oauth_client", "id": client.pk, "name": client.name,
                                "breaks": ["allowedScopes"], "actions": ["revoke"]}
    assert client_a.get(POLICY).json()["violations"] == body["violations"]


# Enforcement through the API --------------------------------------------------------------------------------


def _create(client, app, **fields):
    body = {"name": "k", "applicationId": app.pk, "scopes": ["keys:read"], "environment": "test",
            "expiresInDays": 7, **fields}
    return client.post("/api/v1/api-keys", body, format="json")


def test_a_key_longer_than_the_limit_is_a_400_stating_the_limit_in_days(client_a, app) -> None:
    _put(client_a, allowedScopes=None, liveKeysNeedIpRanges=False)
    for days in (31, None):
        response = _create(client_a, app, expiresInDays=days)
        assert response.status_code == 400
        assert response.json()["code"] == "VALIDATION_ERROR"
        assert "30 days" in " ".join(response.json()["details"]["expiresInDays"])
    response = _create(client_a, app, expiresInDays=30)
    assert response.status_code == 201


def test_a_key_with_a_scope_the_policy_leaves_out_is_a_400_naming_it(client_a, app) -> None:
    _put(client_a, maxKeyLifetimeDays=None, liveKeysNeedIpRanges=False)
    response = _create(client_a, app, scopes=["keys:read", "audit:read"])
    assert response.status_code == 400
    assert "audit:read" in " ".join(response.json()["details"]["scopes"])
    assert _create(client_a, app, scopes=["keys:read", "apps:read"]).status_code == 201


def test_a_preset_holding_a_disallowed_scope_is_refused_never_cut(client_a, app) -> None:
    _put(client_a, maxKeyLifetimeDays=None, liveKeysNeedIpRanges=False)
    count = ApiKey.objects.count()
    response = client_a.post("/api/v1/api-keys", {"name": "k", "applicationId": app.pk, "scopePreset": "READ_ONLY",
                                                  "environment": "test"}, format="json")
    assert response.status_code == 400
    message = " ".join(response.json()["details"]["scopePreset"])
    assert "READ_ONLY" in message and "audit:read" in message
    assert ApiKey.objects.count() == count


def test_a_live_key_without_ip_ranges_is_a_400_naming_allowed_ips(client_a, app, owner) -> None:
    _put(client_a, maxKeyLifetimeDays=None, allowedScopes=None)
    response = _create(client_a, app, environment="live")
    assert response.status_code == 400
    assert "allowedIps" in response.json()["details"]
    assert _create(client_a, app, environment="live", allowedIps=["203.0.113.0/24"]).status_code == 201
    assert _create(client_a, app, environment="test").status_code == 201


def test_rotation_keeps_only_allowed_scopes_and_expires_within_the_limit(client_a, app, make_key) -> None:
    key, _ = make_key(app, None, scopes=["keys:read", "audit:read"], expires_in_days=365, environment="test")
    _put(client_a, liveKeysNeedIpRanges=False)
    response = client_a.post(f"/api/v1/api-keys/{key.public_id}/rotate", {}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["scopes"] == ["keys:read"]
    new = ApiKey.objects.get(public_id=response.json()["id"])
    assert abs(new.expires_at - (timezone.now() + timedelta(days=30))) < timedelta(minutes=1)
    key.refresh_from_db()
    assert key.status == "rotating"


def test_rotation_keeps_the_old_expiry_when_it_is_earlier_than_the_limit(client_a, app, make_key) -> None:
    key, _ = make_key(app, None, scopes=["keys:read"], expires_in_days=10, environment="test")
    _put(client_a, liveKeysNeedIpRanges=False)
    response = client_a.post(f"/api/v1/api-keys/{key.public_id}/rotate", {}, format="json")
    assert response.status_code == 201
    new = ApiKey.objects.get(public_id=response.json()["id"])
    assert abs(new.expires_at - key.expires_at) < timedelta(seconds=1)


def test_rotating_a_key_with_no_allowed_scope_left_is_a_400(client_a, app, make_key) -> None:
    key, _ = make_key(app, None, scopes=["audit:read"], environment="test")
    _put(client_a, liveKeysNeedIpRanges=False)
    response = client_a.post(f"/api/v1/api-keys/{key.public_id}/rotate", {}, format="json")
    assert response.status_code == 400
    assert "scopes" in response.json()["details"]


def test_oauth_clients_may_hold_only_allowed_scopes(client_a, app, make_client) -> None:
    _put(client_a)
    body = {"name": "c", "applicationId": app.pk, "clientType": "confidential",
            "grantTypes": ["client_credentials"], "redirectUris": [], "allowedScopes": ["apps:read", "team:read"]}
    response = client_a.post("/api/v1/oauth-clients", body, format="json")
    assert response.status_code == 400
    assert "team:read" in " ".join(response.json()["details"]["allowedScopes"])
    body["allowedScopes"] = ["apps:read"]
    assert client_a.post("/api/v1/oauth-clients", body, format="json").status_code == 201
    client, _ = make_client(app, scopes=["apps:read"])
    response = client_a.patch(f"/api/v1/oauth-clients/{client.pk}", {"allowedScopes": ["webhooks:read"]},
                              format="json")
    assert response.status_code == 400
    assert "webhooks:read" in " ".join(response.json()["details"]["allowedScopes"])
