"""``/api/v1/oauth-clients``: registering, changing, rotating and deleting OAuth clients over the API."""

from __future__ import annotations

import base64

import pytest
from django.test import Client

from audit.models import AuditEvent
from oauthapps.models import OAuthClient
from tests.helpers import stored_text_containing

pytestmark = pytest.mark.django_db

CALLBACK = "https://client.example.com/callback"


def confidential(app, **overrides):
    body = {
        "name": "Billing backend",
        "applicationId": app.pk,
        "clientType": "confidential",
        "grantTypes": ["client_credentials"],
        "allowedScopes": ["apps:read"],
    }
    body.update(overrides)
    return body


def web(app, **overrides):
    return confidential(app, **{"grantTypes": ["authorization_code", "refresh_token"], "redirectUris": [CALLBACK],
                                **overrides})


def client_credentials_token(client_id, secret):
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return Client().post("/oauth/token/", {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=f"Basic {basic}")


@pytest.fixture
def created(client_a, app):
    """A confidential client-credentials client made through the API: its creation response body."""
    response = client_a.post("/api/v1/oauth-clients", confidential(app), format="json")
    assert response.status_code == 201, response.json()
    return response.json()


@pytest.fixture
def foreign_client(other_app, make_client):
    return make_client(other_app)[0]


# Create ---------------------------------------------------------------------------------------------------


def test_create_confidential_client_shows_the_secret_once(client_a, app, created):
    assert created["clientId"] and created["clientSecret"]
    assert created["applicationId"] == app.pk
    assert created["clientType"] == "confidential"
    assert created["grantTypes"] == ["client_credentials"]
    assert created["allowedScopes"] == ["apps:read"]
    later = client_a.get(f"/api/v1/oauth-clients/{created['id']}")
    assert later.status_code == 200
    assert "clientSecret" not in later.json()
    assert later.json()["clientId"] == created["clientId"]
    listed = client_a.get("/api/v1/oauth-clients").json()["results"]
    assert [c["id"] for c in listed] == [created["id"]]
    assert "clientSecret" not in listed[0]


def test_creation_response_is_not_cached(client_a, app):
    response = client_a.post("/api/v1/oauth-clients", confidential(app), format="json")
    assert response["Cache-Control"] == "no-store"


def test_created_secret_works_at_the_token_endpoint(created):
    response = client_credentials_token(created["clientId"], created["clientSecret"])
    assert response.status_code == 200
    assert response.json()["scope"] == "apps:read"


def test_client_secret_is_stored_only_as_a_keyed_hash(created):
    stored = OAuthClient.objects.get(pk=created["id"])
    assert stored.client_secret.startswith("portal_client_secret_hmac$")
    assert stored_text_containing(created["clientSecret"]) == []


def test_create_public_client_has_no_secret(client_a, app):
    response = client_a.post("/api/v1/oauth-clients", web(app, clientType="public"), format="json")
    assert response.status_code == 201
    assert response.json()["clientSecret"] is None
    assert response.json()["clientType"] == "public"


def test_client_may_be_allowed_several_grants(client_a, app):
    body = web(app, grantTypes=["refresh_token", "client_credentials", "authorization_code"])
    response = client_a.post("/api/v1/oauth-clients", body, format="json")
    assert response.status_code == 201
    assert response.json()["grantTypes"] == ["authorization_code", "client_credentials", "refresh_token"]


def test_creation_is_audited(client_a, created):
    event = AuditEvent.objects.get(action="oauth_client.created")
    assert event.metadata["clientId"] == created["clientId"]
    assert created["clientSecret"] not in str(event.metadata)


@pytest.mark.parametrize(
    "uri, words",
    [
        ("http://client.example.com/callback", "loopback"),
        ("https://*.example.com/callback", "Wildcards"),
        ("https://client.example.com/callback#done", "fragment"),
        ("com.example.app:/callback", "https"),
        ("javascript:alert(1)", "https"),
        ("https://user:pw@client.example.com/callback", "user name"),
    ],
)
def test_bad_redirect_uri_is_refused_naming_the_uri(client_a, app, uri, words):
    response = client_a.post("/api/v1/oauth-clients", web(app, redirectUris=[CALLBACK, uri]), format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "VALIDATION_ERROR"
    [message] = body["details"]["redirectUris"]
    assert message.startswith(f"{uri}: ") and words in message
    assert not OAuthClient.objects.exists()


@pytest.mark.parametrize("uri", ["http://127.0.0.1:8765/callback", "http://localhost/cb", "http://[::1]:9000/cb"])
def test_loopback_http_redirect_uri_is_accepted(client_a, app, uri):
    response = client_a.post("/api/v1/oauth-clients", web(app, clientType="public", redirectUris=[uri]),
                             format="json")
    assert response.status_code == 201
    assert response.json()["redirectUris"] == [uri]


def test_authorization_code_client_needs_a_redirect_uri(client_a, app):
    response = client_a.post("/api/v1/oauth-clients", web(app, redirectUris=[]), format="json")
    assert response.status_code == 400
    assert "redirect URI" in response.json()["details"]["redirectUris"][0]


def test_public_client_cannot_use_client_credentials(client_a, app):
    response = client_a.post("/api/v1/oauth-clients", confidential(app, clientType="public"), format="json")
    assert response.status_code == 400
    assert "public client" in response.json()["details"]["grantTypes"][0]


@pytest.mark.parametrize("grant", ["password", "implicit", "device_code"])
def test_grants_the_portal_does_not_offer_are_refused(client_a, app, grant):
    response = client_a.post("/api/v1/oauth-clients", web(app, grantTypes=["authorization_code", grant]),
                             format="json")
    assert response.status_code == 400
    message = response.json()["details"]["grantTypes"][0]
    assert grant in message


def test_no_grant_at_all_is_refused(client_a, app):
    response = client_a.post("/api/v1/oauth-clients", confidential(app, grantTypes=[]), format="json")
    assert response.status_code == 400
    assert "grantTypes" in response.json()["details"]


def test_unknown_client_type_is_refused(client_a, app):
    response = client_a.post("/api/v1/oauth-clients", confidential(app, clientType="native"), format="json")
    assert response.status_code == 400
    assert "clientType" in response.json()["details"]


def test_allowed_scopes_beyond_the_calling_keys_scopes_are_insufficient_scope(api_client, make_key, app):
    _key, plaintext = make_key(app, None, scopes=["apps:read", "apps:write"])
    response = api_client(plaintext).post("/api/v1/oauth-clients",
                                          confidential(app, allowedScopes=["apps:read", "keys:write"]), format="json")
    assert response.status_code == 403
    body = response.json()
    assert body["code"] == "INSUFFICIENT_SCOPE" and body["requiredScopes"] == ["keys:write"]
    assert not OAuthClient.objects.exists()


def test_unknown_scope_is_a_validation_error(client_a, app):
    response = client_a.post("/api/v1/oauth-clients", confidential(app, allowedScopes=["orders:read"]),
                             format="json")
    assert response.status_code == 400
    assert "orders:read" in response.json()["details"]["allowedScopes"][0]


def test_another_organizations_application_id_is_a_validation_error(client_a, other_app):
    response = client_a.post("/api/v1/oauth-clients", confidential(other_app), format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "VALIDATION_ERROR"
    assert "applicationId" in response.json()["details"]
    assert not OAuthClient.objects.exists()


@pytest.mark.parametrize("field", ["name", "applicationId", "grantTypes", "allowedScopes"])
def test_missing_required_field_is_named(client_a, app, field):
    body = confidential(app)
    del body[field]
    response = client_a.post("/api/v1/oauth-clients", body, format="json")
    assert response.status_code == 400
    assert field in response.json()["details"]


def test_unknown_field_is_refused(client_a, app):
    response = client_a.post("/api/v1/oauth-clients", confidential(app, clientSecret="mine"), format="json")
    assert response.status_code == 400


# Scopes of the caller ---------------------------------------------------------------------------------------


def test_read_only_key_can_list_but_not_create(api_client, make_key, app, created):
    _key, plaintext = make_key(app, "READ_ONLY")
    reader = api_client(plaintext)
    assert reader.get("/api/v1/oauth-clients").status_code == 200
    response = reader.post("/api/v1/oauth-clients", confidential(app), format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "INSUFFICIENT_SCOPE"
    assert response.json()["requiredScopes"] == ["apps:write"]


@pytest.mark.parametrize("method, suffix", [("patch", ""), ("delete", ""), ("post", "/rotate-secret")])
def test_read_only_key_cannot_change_a_client(api_client, make_key, app, created, method, suffix):
    _key, plaintext = make_key(app, "READ_ONLY")
    response = getattr(api_client(plaintext), method)(f"/api/v1/oauth-clients/{created['id']}{suffix}", {},
                                                      format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "INSUFFICIENT_SCOPE"


def test_key_without_apps_read_cannot_list(api_client, make_key, app):
    _key, plaintext = make_key(app, None, scopes=["keys:read"])
    response = api_client(plaintext).get("/api/v1/oauth-clients")
    assert response.status_code == 403
    assert response.json()["requiredScopes"] == ["apps:read"]


def test_without_credentials_is_auth_failed(api_client, db):
    response = api_client().get("/api/v1/oauth-clients")
    assert response.status_code == 401
    assert response.json()["code"] == "AUTH_FAILED"


# Update ---------------------------------------------------------------------------------------------------


def test_patch_changes_redirect_uris(client_a, app):
    created = client_a.post("/api/v1/oauth-clients", web(app), format="json").json()
    new_uri = "https://client.example.com/oauth/done"
    response = client_a.patch(f"/api/v1/oauth-clients/{created['id']}", {"redirectUris": [new_uri]}, format="json")
    assert response.status_code == 200
    assert response.json()["redirectUris"] == [new_uri]
    assert client_a.get(f"/api/v1/oauth-clients/{created['id']}").json()["redirectUris"] == [new_uri]


def test_patch_refuses_a_bad_redirect_uri_and_keeps_the_old_ones(client_a, app):
    created = client_a.post("/api/v1/oauth-clients", web(app), format="json").json()
    response = client_a.patch(f"/api/v1/oauth-clients/{created['id']}",
                              {"redirectUris": ["https://*.example.com/cb"]}, format="json")
    assert response.status_code == 400
    assert response.json()["details"]["redirectUris"][0].startswith("https://*.example.com/cb: ")
    assert client_a.get(f"/api/v1/oauth-clients/{created['id']}").json()["redirectUris"] == [CALLBACK]


def test_patch_cannot_remove_every_redirect_uri_of_an_authorization_code_client(client_a, app):
    created = client_a.post("/api/v1/oauth-clients", web(app), format="json").json()
    response = client_a.patch(f"/api/v1/oauth-clients/{created['id']}", {"redirectUris": []}, format="json")
    assert response.status_code == 400


def test_patch_name_scopes_and_rate_limit(client_a, created):
    response = client_a.patch(f"/api/v1/oauth-clients/{created['id']}", {
        "name": "Renamed", "allowedScopes": ["apps:read", "keys:read"], "rateLimitPerMinute": 30,
    }, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "Renamed"
    assert body["allowedScopes"] == ["apps:read", "keys:read"]
    assert body["rateLimitPerMinute"] == 30
    assert "clientSecret" not in body


def test_patch_allowed_scopes_beyond_the_key_is_insufficient_scope(api_client, make_key, app, created):
    _key, plaintext = make_key(app, "STANDARD")
    response = api_client(plaintext).patch(f"/api/v1/oauth-clients/{created['id']}",
                                           {"allowedScopes": ["team:write"]}, format="json")
    assert response.status_code == 403
    assert response.json()["requiredScopes"] == ["team:write"]


def test_patch_grant_types_applies_at_the_token_endpoint(client_a, app, created):
    response = client_a.patch(f"/api/v1/oauth-clients/{created['id']}",
                              {"grantTypes": ["authorization_code"], "redirectUris": [CALLBACK]}, format="json")
    assert response.status_code == 200
    refused = client_credentials_token(created["clientId"], created["clientSecret"])
    assert refused.json()["error"] == "unauthorized_client"


# Rotate and delete ------------------------------------------------------------------------------------------


def test_rotate_secret_gives_a_new_secret_and_the_old_one_stops(client_a, created):
    response = client_a.post(f"/api/v1/oauth-clients/{created['id']}/rotate-secret", {}, format="json")
    assert response.status_code == 201
    assert response["Cache-Control"] == "no-store"
    new_secret = response.json()["clientSecret"]
    assert new_secret and new_secret != created["clientSecret"]
    assert response.json()["clientId"] == created["clientId"]
    assert client_credentials_token(created["clientId"], new_secret).status_code == 200
    old = client_credentials_token(created["clientId"], created["clientSecret"])
    assert old.status_code == 401 and old.json()["error"] == "invalid_client"
    assert "clientSecret" not in client_a.get(f"/api/v1/oauth-clients/{created['id']}").json()


def test_rotating_a_public_clients_secret_is_refused(client_a, app):
    created = client_a.post("/api/v1/oauth-clients", web(app, clientType="public"), format="json").json()
    response = client_a.post(f"/api/v1/oauth-clients/{created['id']}/rotate-secret", {}, format="json")
    assert response.status_code == 400


def test_delete_then_get_is_404_and_its_tokens_fail(client_a, api_client, created):
    token = client_credentials_token(created["clientId"], created["clientSecret"]).json()["access_token"]
    assert api_client(token, header="Bearer").get("/api/v1/hello").status_code == 200
    response = client_a.delete(f"/api/v1/oauth-clients/{created['id']}")
    assert response.status_code == 204
    assert client_a.get(f"/api/v1/oauth-clients/{created['id']}").status_code == 404
    refused = api_client(token, header="Bearer").get("/api/v1/hello")
    assert refused.status_code == 401 and refused.json()["code"] == "AUTH_FAILED"
    assert client_credentials_token(created["clientId"], created["clientSecret"]).status_code == 401


# Another organization's client ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "method, suffix, body",
    [("get", "", None), ("patch", "", {"name": "Mine now"}), ("delete", "", None),
     ("post", "/rotate-secret", {})],
)
def test_another_organizations_client_is_404(client_a, foreign_client, method, suffix, body):
    kwargs = {"format": "json"} if body is not None else {}
    response = getattr(client_a, method)(f"/api/v1/oauth-clients/{foreign_client.pk}{suffix}",
                                         *([body] if body is not None else []), **kwargs)
    assert response.status_code == 404
    assert response.json()["code"] == "NOT_FOUND"
    foreign_client.refresh_from_db()
    assert foreign_client.name == "test client"


def test_list_shows_only_the_callers_organization(client_a, created, foreign_client):
    ids = [c["id"] for c in client_a.get("/api/v1/oauth-clients").json()["results"]]
    assert ids == [created["id"]]


@pytest.mark.parametrize("path", ["/api/v1/oauth-clients/999999", "/api/v1/oauth-clients/"])
def test_unknown_id_or_trailing_slash_is_404(client_a, path):
    assert client_a.get(path).status_code == 404
