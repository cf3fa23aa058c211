"""OpenID Connect rules checked through Django's test client: ``prompt``, the nonce, claims per scope."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from django.test import Client
from jwcrypto import jwk, jwt

from tests.oauthapps.conftest import authorize_params, pkce_pair, query_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def oidc_client(app, make_client):
    return make_client(app, grants=("authorization_code",), scopes=("apps:read", "openid", "email"))


def id_token_claims(id_token: str) -> dict:
    keys = jwk.JWKSet.from_json(Client().get("/oauth/jwks/").content.decode())
    return json.loads(jwt.JWT(jwt=id_token, key=keys, expected_type="JWS").claims)


def test_prompt_none_goes_back_with_consent_required(oidc_client, login, developer):
    client, _secret = oidc_client
    _verifier, challenge = pkce_pair()
    query = authorize_params(client, scope="openid apps:read", challenge=challenge, prompt="none")
    response = login(developer).get("/oauth/authorize/?" + urlencode(query))
    assert response.status_code == 302
    answer = query_of(response["Location"])
    assert response["Location"].startswith("https://client.example.com/callback?")
    assert answer["error"] == "consent_required" and answer["state"] == "xyz" and "code" not in answer


def test_prompt_none_with_nobody_signed_in_goes_back_with_login_required(oidc_client):
    client, _secret = oidc_client
    _verifier, challenge = pkce_pair()
    query = authorize_params(client, scope="openid apps:read", challenge=challenge, prompt="none")
    response = Client().get("/oauth/authorize/?" + urlencode(query))
    assert response.status_code == 302
    assert response["Location"].startswith("https://client.example.com/callback?")
    answer = query_of(response["Location"])
    assert answer["error"] == "login_required" and answer["state"] == "xyz" and "code" not in answer


def test_prompt_none_with_nobody_signed_in_never_goes_to_an_unregistered_uri(oidc_client):
    client, _secret = oidc_client
    _verifier, challenge = pkce_pair()
    query = {**authorize_params(client, scope="openid", challenge=challenge, prompt="none"),
             "redirect_uri": "https://attacker.example.net/steal"}
    response = Client().get("/oauth/authorize/?" + urlencode(query))
    assert response.status_code != 302 or "attacker" not in response["Location"]


def test_without_a_nonce_the_id_token_has_none(oidc_client, code_tokens, login, developer, org):
    client, secret = oidc_client
    tokens = code_tokens(login(developer), client, secret, org.slug, scope="openid")
    claims = id_token_claims(tokens["id_token"])
    assert "nonce" not in claims
    assert claims["sub"] == str(developer.pk) and claims["org"] == org.slug and claims["aud"] == client.client_id
    assert "email" not in claims


def test_no_id_token_without_openid(oidc_client, code_tokens, login, developer, org):
    client, secret = oidc_client
    tokens = code_tokens(login(developer), client, secret, org.slug, scope="apps:read email")
    assert "id_token" not in tokens


def test_a_client_not_allowed_openid_cannot_ask_for_it(app, make_client, consent, login, developer, org):
    client, _secret = make_client(app, grants=("authorization_code",), scopes=("apps:read",))
    _verifier, challenge = pkce_pair()
    query = authorize_params(client, scope="openid apps:read", challenge=challenge)
    response = login(developer).get("/oauth/authorize/?" + urlencode(query))
    assert response.status_code == 302
    assert query_of(response["Location"])["error"] == "invalid_scope"


def test_every_role_may_grant_the_identity_scopes(oidc_client, code_tokens, login, viewer, org):
    client, secret = oidc_client
    tokens = code_tokens(login(viewer), client, secret, org.slug, scope="openid email apps:read")
    assert sorted(tokens["scope"].split()) == ["apps:read", "email", "openid"]
    assert id_token_claims(tokens["id_token"])["email"] == viewer.email
