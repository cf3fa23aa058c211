"""Every endpoint of the REST API: happy path, scope refusal, tenant isolation."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from accounts.models import Invitation, Membership
from apikeys.models import ApiKey
from tests.factories import ApplicationFactory

pytestmark = pytest.mark.django_db


def test_hello_greets_by_name(client_a):
    response = client_a.get("/api/v1/hello?name=Test")
    assert response.status_code == 200
    assert response.json() == {"message": "Hello Test!"}


@pytest.mark.parametrize("header", ["x-api-key", "Bearer", "bearer", "BEARER"])
def test_key_works_in_either_header_and_any_scheme_case(api_client, admin_key, header):
    assert api_client(admin_key, header=header).get("/api/v1/hello").status_code == 200


def test_me_describes_the_key(client_a, app, org):
    body = client_a.get("/api/v1/me").json()
    assert body["authType"] == "api_key"
    assert body["organization"] == {"id": org.pk, "slug": "acme", "name": "Acme"}
    assert body["application"] == {"id": app.pk, "name": "Billing sync"}
    assert body["user"] is None
    assert "admin" in body["scopes"] and body["expiresAt"] is None


def test_scopes_lists_every_scope_and_preset_without_credentials(api_client):
    body = api_client().get("/api/v1/scopes").json()
    names = [s["name"] for s in body["scopes"]]
    assert names == ["apps:read", "apps:write", "keys:read", "keys:write", "team:read", "team:write", "audit:read",
                     "usage:read", "webhooks:read", "webhooks:write", "admin", "openid", "email", "profile"]
    presets = {p["name"]: p["scopes"] for p in body["presets"]}
    assert presets["READ_ONLY"] == ["apps:read", "keys:read", "team:read", "audit:read", "usage:read",
                                   "webhooks:read"]
    assert "team:write" not in presets["STANDARD"] and "admin" not in presets["STANDARD"]
    assert "apps:write" in presets["STANDARD"] and "admin" in presets["ADMIN"]


# API keys -------------------------------------------------------------------------------------------------


def test_create_key_returns_it_once_with_no_store(client_a, app, api_client):
    response = client_a.post(
        "/api/v1/api-keys",
        {"name": "CI", "applicationId": app.pk, "scopePreset": "READ_ONLY", "expiresInDays": 30,
         "environment": "test", "rateLimitPerMinute": 20, "allowedIps": ["10.0.0.0/8", "2001:db8::/32"]},
        format="json",
    )
    assert response.status_code == 201
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert body["key"].startswith(f"dp_test_{body['id']}")
    assert body["scopes"] == ["apps:read", "keys:read", "team:read", "audit:read", "usage:read",
                                   "webhooks:read"]
    assert body["environment"] == "test" and body["rateLimitPerMinute"] == 20
    assert body["allowedIps"] == ["10.0.0.0/8", "2001:db8::/32"] and body["expiresAt"]
    later = client_a.get(f"/api/v1/api-keys/{body['id']}")
    assert later.status_code == 200 and "key" not in later.json()
    assert all("key" not in k for k in client_a.get("/api/v1/api-keys").json()["results"])


def test_explicit_scopes_and_preset_combine(client_a, app):
    response = client_a.post("/api/v1/api-keys", {"name": "k", "applicationId": app.pk, "scopePreset": "READ_ONLY",
                                                  "scopes": ["apps:write"]}, format="json")
    assert response.status_code == 201
    assert set(response.json()["scopes"]) == {"apps:read", "apps:write", "keys:read", "team:read", "audit:read",
                                                 "usage:read", "webhooks:read"}


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"scopes": ["apps:read", "orders:fly"]}, "scopes"),
        ({"scopePreset": "SUPERUSER"}, "scopePreset"),
        ({}, "scopes"),
        ({"scopePreset": "ADMIN", "expiresInDays": 0}, "expiresInDays"),
        ({"scopePreset": "ADMIN", "expiresInDays": 366}, "expiresInDays"),
        ({"scopePreset": "ADMIN", "environment": "prod"}, "environment"),
        ({"scopePreset": "ADMIN", "allowedIps": ["10.0.0.0/33"]}, "allowedIps"),
        ({"scopePreset": "ADMIN", "rateLimitPerMinute": 0}, "rateLimitPerMinute"),
        ({"scopePreset": "ADMIN", "name": ""}, "name"),
    ],
)
def test_bad_key_input_names_the_field_and_stores_nothing(client_a, app, payload, field):
    before = ApiKey.objects.count()
    body = {"name": "k", "applicationId": app.pk, **payload}
    response = client_a.post("/api/v1/api-keys", body, format="json")
    assert response.status_code == 400, response.json()
    assert response.json()["code"] == "VALIDATION_ERROR"
    assert field in response.json()["details"]
    assert ApiKey.objects.count() == before


def test_unknown_scope_error_names_the_scope(client_a, app):
    response = client_a.post("/api/v1/api-keys", {"name": "k", "applicationId": app.pk,
                                                  "scopes": ["orders:fly"]}, format="json")
    assert "orders:fly" in response.json()["details"]["scopes"][0]


def test_another_organizations_application_id_in_a_body_is_a_validation_error(client_a, other_app):
    response = client_a.post("/api/v1/api-keys", {"name": "k", "applicationId": other_app.pk,
                                                  "scopePreset": "READ_ONLY"}, format="json")
    assert response.status_code == 400
    assert response.json()["details"] == {"applicationId": ["No such application."]}


def test_organization_policy_can_require_an_expiry(client_a, app, org):
    org.allow_keys_without_expiry = False
    org.save()
    response = client_a.post("/api/v1/api-keys", {"name": "k", "applicationId": app.pk, "scopePreset": "ADMIN"},
                             format="json")
    assert response.status_code == 400 and "expiresInDays" in response.json()["details"]


def test_delete_revokes_at_once_and_the_key_is_then_gone(client_a, app, make_key, api_client):
    key, plaintext = make_key(app, "READ_ONLY")
    assert api_client(plaintext).get("/api/v1/hello").status_code == 200
    assert client_a.delete(f"/api/v1/api-keys/{key.public_id}").status_code == 204
    assert api_client(plaintext).get("/api/v1/hello").status_code == 401
    assert client_a.get(f"/api/v1/api-keys/{key.public_id}").status_code == 404
    assert client_a.delete(f"/api/v1/api-keys/{key.public_id}").status_code == 404
    key.refresh_from_db()
    assert key.revoked_at is not None


def test_rotate_issues_a_new_key_and_keeps_the_old_one_for_the_grace_period(client_a, app, make_key, api_client):
    key, old = make_key(app, "READ_ONLY")
    response = client_a.post(f"/api/v1/api-keys/{key.public_id}/rotate", {"gracePeriodHours": 2}, format="json")
    assert response.status_code == 201 and response["Cache-Control"] == "no-store"
    new = response.json()["key"]
    assert new != old and response.json()["scopes"] == key.scopes
    assert api_client(new).get("/api/v1/hello").status_code == 200
    assert api_client(old).get("/api/v1/hello").status_code == 200  # still inside its grace period
    key.refresh_from_db()
    assert key.status == "rotating" and key.replaced_by.public_id == response.json()["id"]
    assert abs((key.expires_at - key.rotated_at).total_seconds() - 7200) < 5


@pytest.mark.parametrize("hours", [-1, 169, "soon"])
def test_rotate_grace_period_is_bounded(client_a, app, make_key, hours):
    key, _ = make_key(app, "READ_ONLY")
    response = client_a.post(f"/api/v1/api-keys/{key.public_id}/rotate", {"gracePeriodHours": hours}, format="json")
    assert response.status_code == 400 and "gracePeriodHours" in response.json()["details"]
    assert ApiKey.objects.count() == 2  # the admin key and this one, nothing new


def test_rotating_twice_is_refused(client_a, app, make_key):
    key, _ = make_key(app, "READ_ONLY")
    assert client_a.post(f"/api/v1/api-keys/{key.public_id}/rotate", {}, format="json").status_code == 201
    assert client_a.post(f"/api/v1/api-keys/{key.public_id}/rotate", {}, format="json").status_code == 400


# Team and audit -------------------------------------------------------------------------------------------


def test_members_list(client_a, owner, developer):
    body = client_a.get("/api/v1/members").json()
    emails = {m["user"]["email"]: m for m in body["results"]}
    assert emails[owner.email]["role"] == "owner" and set(emails[owner.email]) == {"id", "user", "role", "joinedAt"}
    assert developer.email in emails


def test_invitation_created_by_key_sends_the_token_only_by_email(client_a, owner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_a.post("/api/v1/invitations", {"email": "new@example.com", "role": "developer"},
                                 format="json")
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "email", "role", "expiresAt"}
    assert len(mail.outbox) == 1 and "/invitations/" in mail.outbox[0].body
    assert Invitation.objects.get(pk=body["id"]).email == "new@example.com"
    token = re.search(r"/invitations/([^/\s]+)/", mail.outbox[0].body).group(1)
    assert token not in response.content.decode()
    assert not Invitation.objects.filter(token_hash__contains=token).exists()


def test_key_cannot_invite_an_owner(client_a, owner):
    response = client_a.post("/api/v1/invitations", {"email": "boss@example.com", "role": "owner"}, format="json")
    assert response.status_code == 403 and response.json()["code"] == "FORBIDDEN"
    assert not Invitation.objects.exists()


def test_remove_member_then_it_is_gone(client_a, owner, developer, org):
    membership = Membership.objects.get(user=developer, organization=org)
    assert client_a.delete(f"/api/v1/members/{membership.pk}").status_code == 204
    assert not Membership.objects.filter(pk=membership.pk).exists()
    assert client_a.delete(f"/api/v1/members/{membership.pk}").status_code == 404


def test_key_cannot_remove_the_last_owner(client_a, owner, org):
    membership = Membership.objects.get(user=owner, organization=org)
    response = client_a.delete(f"/api/v1/members/{membership.pk}")
    assert response.status_code in (400, 403)
    assert Membership.objects.filter(pk=membership.pk).exists()


def test_audit_events_newest_first_with_filters(client_a, app, make_key):
    make_key(app, "READ_ONLY")
    client_a.post("/api/v1/applications", {"name": "Later"}, format="json")
    body = client_a.get("/api/v1/audit-events").json()
    actions = [e["action"] for e in body["results"]]
    assert actions[0] == "application.created" and "api_key.created" in actions
    event = body["results"][0]
    assert set(event) == {"id", "action", "actor", "target", "metadata", "ipAddress", "createdAt"}
    assert event["actor"]["type"] == "api_key" and event["ipAddress"] == "127.0.0.1"
    only = client_a.get("/api/v1/audit-events?action=api_key.created").json()["results"]
    assert only and {e["action"] for e in only} == {"api_key.created"}
    assert client_a.get("/api/v1/audit-events?since=2999-01-01T00:00:00Z").json()["results"] == []
    bad = client_a.get("/api/v1/audit-events?since=yesterday")
    assert bad.status_code == 400 and "since" in bad.json()["details"]


def test_lists_paginate_with_next_and_previous(client_a, org):
    for n in range(5):
        ApplicationFactory(organization=org)
    first = client_a.get("/api/v1/applications?limit=2").json()
    assert len(first["results"]) == 2 and first["next"] and first["previous"] is None
    second = client_a.get(first["next"]).json()
    assert {a["id"] for a in second["results"]}.isdisjoint({a["id"] for a in first["results"]})


# Scope refusals and tenant isolation ----------------------------------------------------------------------

SCOPED = [
    ("get", "/api/v1/applications", "apps:read"),
    ("post", "/api/v1/applications", "apps:write"),
    ("get", "/api/v1/applications/{app}", "apps:read"),
    ("patch", "/api/v1/applications/{app}", "apps:write"),
    ("delete", "/api/v1/applications/{app}", "apps:write"),
    ("get", "/api/v1/api-keys", "keys:read"),
    ("post", "/api/v1/api-keys", "keys:write"),
    ("get", "/api/v1/api-keys/{key}", "keys:read"),
    ("delete", "/api/v1/api-keys/{key}", "keys:write"),
    ("post", "/api/v1/api-keys/{key}/rotate", "keys:write"),
    ("get", "/api/v1/members", "team:read"),
    ("post", "/api/v1/invitations", "team:write"),
    ("delete", "/api/v1/members/{member}", "team:write"),
    ("get", "/api/v1/audit-events", "audit:read"),
    ("get", "/api/v1/usage", "usage:read"),
    ("get", "/api/v1/request-logs", "usage:read"),
]


@pytest.fixture
def ids(app, make_key, developer, org):
    key, _ = make_key(app, "READ_ONLY")
    return {"app": app.pk, "key": key.public_id, "member": Membership.objects.get(user=developer, organization=org).pk}


@pytest.mark.parametrize(("method", "path", "scope"), SCOPED)
def test_each_endpoint_refuses_a_key_without_its_scope(api_client, app, make_key, ids, method, path, scope):
    _, plaintext = make_key(app, scopes=["apps:read"] if scope != "apps:read" else ["keys:read"], preset=None)
    response = getattr(api_client(plaintext), method)(path.format(**ids), {}, format="json")
    assert response.status_code == 403
    assert response.json() == {"error": response.json()["error"], "code": "INSUFFICIENT_SCOPE",
                               "requiredScopes": [scope]}


@pytest.mark.parametrize(("method", "path", "scope"), [row for row in SCOPED if "{" in row[1]])
def test_ids_of_another_organization_are_404(api_client, other_app, make_key, ids, method, path, scope):
    _, foreign_admin_key = make_key(other_app, "ADMIN")
    response = getattr(api_client(foreign_admin_key), method)(path.format(**ids), {"name": "x"}, format="json")
    assert response.status_code == 404
    assert response.json() == {"error": "Not found", "code": "NOT_FOUND"}


def test_lists_show_only_the_callers_organization(api_client, other_app, make_key, app):
    _, foreign = make_key(other_app, "ADMIN")
    client = api_client(foreign)
    assert [a["name"] for a in client.get("/api/v1/applications").json()["results"]] == ["Globex app"]
    assert all(k["applicationId"] == other_app.pk for k in client.get("/api/v1/api-keys").json()["results"])
    assert all(e["action"] for e in client.get("/api/v1/audit-events").json()["results"])
    emails = [m["user"]["email"] for m in client.get("/api/v1/members").json()["results"]]
    assert emails == []


def test_a_member_of_another_org_is_not_listed(client_a, outsider):
    emails = [m["user"]["email"] for m in client_a.get("/api/v1/members").json()["results"]]
    assert outsider.email not in emails
