"""JWT access tokens (RFC 9068) for clients registered with ``accessTokenFormat: "jwt"``: verifiable with the
JWKS alone, yet checked by the portal's own API against its records (revocation holds there at once)."""

from __future__ import annotations

import base64
import hashlib
import json
import time

import pytest
from django.core.management import call_command
from django.test import Client
from jwcrypto import jwk, jwt
from oauth2_provider.models import AccessToken

from tests.helpers import stored_text_containing
from tests.oauthapps.conftest import form_post

pytestmark = pytest.mark.django_db


@pytest.fixture
def jwt_service(app, make_client):
    return make_client(app, grants=("client_credentials",), scopes=("apps:read", "keys:read"),
                       access_token_format="jwt")


def basic_auth(client, secret) -> dict:
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(f"{client.client_id}:{secret}".encode()).decode()}


def client_credentials(client, secret, **extra):
    return form_post("/oauth/token/", {"grant_type": "client_credentials", **extra}, **basic_auth(client, secret))


def jwks() -> jwk.JWKSet:
    """The key set as a resource server elsewhere has it: fetched from the portal, nothing else."""
    return jwk.JWKSet.from_json(Client().get("/oauth/jwks/").content.decode())


def verify_with_jwks_only(token: str) -> tuple[dict, dict]:
    verified = jwt.JWT(jwt=token, key=jwks(), expected_type="JWS",
                       check_claims={"exp": None, "iat": None, "iss": "http://testserver"})
    return json.loads(verified.header), json.loads(verified.claims)


def test_a_jwt_client_gets_an_rfc_9068_token_that_the_jwks_alone_verifies(jwt_service, org):
    client, secret = jwt_service
    response = client_credentials(client, secret, scope="apps:read")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 300 and body["scope"] == "apps:read"

    header, claims = verify_with_jwks_only(body["access_token"])
    assert header["typ"] == "at+jwt" and header["alg"] == "RS256" and header["kid"]
    assert claims["iss"] == "http://testserver"
    assert claims["aud"] == "http://testserver/api/v1"
    assert claims["sub"] == client.client_id  # no person: the client itself
    assert claims["client_id"] == client.client_id
    assert claims["scope"] == "apps:read"
    assert claims["org"] == org.slug
    assert claims["exp"] - claims["iat"] == 300 and abs(claims["iat"] - time.time()) < 5
    assert len(claims["jti"]) >= 16


def test_each_jwt_has_its_own_jti(jwt_service):
    tokens = [client_credentials(*jwt_service).json()["access_token"] for _ in range(2)]
    assert len({verify_with_jwks_only(t)[1]["jti"] for t in tokens}) == 2


def test_a_jwt_is_stored_only_as_a_hash(jwt_service):
    token = client_credentials(*jwt_service).json()["access_token"]
    stored = AccessToken.objects.get()
    assert stored.token == ""
    assert stored.token_checksum == hashlib.sha256(token.encode()).hexdigest()
    assert stored_text_containing(token) == []
    assert stored_text_containing(token.split(".")[2]) == []


def test_the_portal_api_accepts_a_jwt_and_refuses_it_right_after_revocation(jwt_service, api_client, org):
    client, secret = jwt_service
    token = client_credentials(client, secret).json()["access_token"]
    me = api_client(token, "Bearer").get("/api/v1/me")
    assert me.status_code == 200 and me.json()["organization"]["slug"] == org.slug
    assert me.json()["authType"] == "oauth2"

    revoked = form_post("/oauth/revoke/", {"token": token, "token_type_hint": "access_token"},
                        **basic_auth(client, secret))
    assert revoked.status_code == 200
    refused = api_client(token, "Bearer").get("/api/v1/hello")
    assert refused.status_code == 401 and refused.json()["code"] == "AUTH_FAILED"
    verify_with_jwks_only(token)  # still a valid signature: elsewhere only introspection knows it is revoked


def test_introspection_knows_a_jwt_and_its_revocation(jwt_service, org):
    client, secret = jwt_service
    token = client_credentials(client, secret, scope="apps:read").json()["access_token"]
    basic = basic_auth(client, secret)
    active = form_post("/oauth/introspect/", {"token": token}, **basic).json()
    assert active["active"] is True and active["client_id"] == client.client_id and active["scope"] == "apps:read"
    form_post("/oauth/revoke/", {"token": token}, **basic)
    assert form_post("/oauth/introspect/", {"token": token}, **basic).json() == {"active": False}


def test_a_forged_jwt_is_refused_by_the_api(jwt_service, api_client):
    token = client_credentials(*jwt_service).json()["access_token"]
    header, payload, signature = token.split(".")
    forged = ".".join([header, payload, signature[:-4] + ("AAAA" if signature[-4:] != "AAAA" else "BBBB")])
    assert api_client(forged, "Bearer").get("/api/v1/hello").status_code == 401


def test_the_authorization_code_flow_gives_a_jwt_naming_the_person_and_the_chosen_org(
    app, make_client, code_tokens, login, developer, org
):
    client, secret = make_client(app, grants=("authorization_code", "refresh_token"), access_token_format="jwt")
    tokens = code_tokens(login(developer), client, secret, org.slug)
    assert tokens["expires_in"] == 300
    assert "." not in tokens["refresh_token"]  # refresh tokens stay opaque
    _header, claims = verify_with_jwks_only(tokens["access_token"])
    assert claims["sub"] == str(developer.pk) and claims["org"] == org.slug
    refreshed = form_post("/oauth/token/", {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"],
                                            "client_id": client.client_id, "client_secret": secret})
    assert refreshed.status_code == 200
    assert verify_with_jwks_only(refreshed.json()["access_token"])[1]["org"] == org.slug


def test_opaque_stays_the_default(app, make_client):
    client, secret = make_client(app)
    body = client_credentials(client, secret).json()
    assert body["expires_in"] == 3600 and body["access_token"].count(".") == 0


def test_a_jwt_signed_before_a_rotation_still_verifies_and_the_next_one_uses_the_new_key(jwt_service, api_client):
    before = client_credentials(*jwt_service).json()["access_token"]
    call_command("rotate_signing_key")
    after = client_credentials(*jwt_service).json()["access_token"]
    old_kid, new_kid = verify_with_jwks_only(before)[0]["kid"], verify_with_jwks_only(after)[0]["kid"]
    assert old_kid != new_kid
    assert api_client(before, "Bearer").get("/api/v1/hello").status_code == 200


def test_json_token_endpoint_gives_a_jwt_too(jwt_service, api_client):
    client, secret = jwt_service
    response = api_client().post("/api/v1/auth", {"clientId": client.client_id, "clientSecret": secret},
                                 format="json")
    assert response.status_code == 200
    assert response.json()["expiresIn"] == 300
    assert verify_with_jwks_only(response.json()["accessToken"])[1]["client_id"] == client.client_id


# accessTokenFormat on the API, the command and the dashboard --------------------------------------------------


def _confidential(app, **overrides) -> dict:
    body = {"name": "Reporting", "applicationId": app.pk, "grantTypes": ["client_credentials"],
            "allowedScopes": ["apps:read"]}
    body.update(overrides)
    return body


def test_api_shows_the_format_on_every_client_and_defaults_to_opaque(client_a, app):
    created = client_a.post("/api/v1/oauth-clients", _confidential(app), format="json")
    assert created.status_code == 201 and created.json()["accessTokenFormat"] == "opaque"
    jwt_client = client_a.post("/api/v1/oauth-clients", _confidential(app, accessTokenFormat="jwt"), format="json")
    assert jwt_client.status_code == 201 and jwt_client.json()["accessTokenFormat"] == "jwt"
    listed = client_a.get("/api/v1/oauth-clients").json()["results"]
    assert {c["accessTokenFormat"] for c in listed} == {"opaque", "jwt"}
    shown = client_a.get(f"/api/v1/oauth-clients/{jwt_client.json()['id']}").json()
    assert shown["accessTokenFormat"] == "jwt"


@pytest.mark.parametrize("value", ["JWT", "signed", "", None, 1])
def test_api_refuses_any_other_format(client_a, app, value):
    response = client_a.post("/api/v1/oauth-clients", _confidential(app, accessTokenFormat=value), format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "VALIDATION_ERROR" and "accessTokenFormat" in response.json()["details"]


def test_api_patch_changes_the_format_and_refuses_a_bad_one(client_a, app):
    client_id = client_a.post("/api/v1/oauth-clients", _confidential(app), format="json").json()["id"]
    bad = client_a.patch(f"/api/v1/oauth-clients/{client_id}", {"accessTokenFormat": "paseto"}, format="json")
    assert bad.status_code == 400 and "accessTokenFormat" in bad.json()["details"]
    changed = client_a.patch(f"/api/v1/oauth-clients/{client_id}", {"accessTokenFormat": "jwt"}, format="json")
    assert changed.status_code == 200 and changed.json()["accessTokenFormat"] == "jwt"


def test_create_oauth_client_command_takes_the_format(org, capsys):
    call_command("create_oauth_client", "--org", org.slug, "--name", "Exporter", "--grant", "client_credentials",
                 "--access-token-format", "jwt")
    out = capsys.readouterr().out
    assert "access_token_format: jwt" in out
    client_id = next(line.split(": ", 1)[1] for line in out.splitlines() if line.startswith("client_id: "))
    secret = next(line.split(": ", 1)[1] for line in out.splitlines() if line.startswith("client_secret: "))
    from oauthapps.models import OAuthClient

    client = OAuthClient.objects.get(client_id=client_id)
    assert client.access_token_format == "jwt"
    assert client_credentials(client, secret).json()["expires_in"] == 300


def test_dashboard_registers_a_jwt_client(login, owner, org, app):
    from django.urls import reverse

    from oauthapps.models import OAuthClient

    response = login(owner).post(reverse("client-create", args=[org.slug, app.pk]), {
        "name": "Edge", "client_type": "confidential", "grant_types": ["client_credentials"],
        "redirect_uris": "", "allowed_scopes": ["apps:read"], "rate_limit_per_minute": "",
        "access_token_format": "jwt",
    })
    assert response.status_code == 302
    assert OAuthClient.objects.get(name="Edge").access_token_format == "jwt"
