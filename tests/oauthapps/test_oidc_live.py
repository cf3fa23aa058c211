"""OpenID Connect as a relying party runs it: Authlib's client against a live server does discovery, the code
flow with PKCE (S256) and ``openid``, verifies the ID token against the JWKS, and calls userinfo."""

from __future__ import annotations

import json

import pytest
import requests
from authlib.integrations.django_client import OAuth
from django.core.management import call_command
from jwcrypto import jwk, jwt

from accounts.memberships.services import membership_remove
from accounts.selectors import access_organization_by_slug
from oauthapps.models import SigningKey
from portal.encryption import decrypt
from tests.oauthapps.conftest import REDIRECT_URI, query_of
from tests.oauthapps.test_flows_live import approve, browser, oauth_env, urls  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def oidc_client(app, make_client):
    return make_client(app, grants=("authorization_code", "refresh_token"),
                       scopes=("apps:read", "openid", "email", "profile"))


@pytest.fixture
def relying_party(live_server, oidc_client):
    """``relying_party(client, secret) -> Authlib client`` configured by discovery only."""

    def _make(client=None, secret=None):
        client, secret = (client, secret) if client is not None else oidc_client
        oauth = OAuth()
        return oauth.register(
            "portal", overwrite=True, client_id=client.client_id, client_secret=secret,
            server_metadata_url=f"{live_server.url}/.well-known/openid-configuration",
            client_kwargs={"scope": "openid email profile apps:read", "code_challenge_method": "S256"},
        )

    return _make


@pytest.fixture
def sign_in_with_portal(oauth_env, browser, approve):  # noqa: F811
    """``sign_in_with_portal(rp, user, scope=None, organization=None) -> (token, nonce)``: the whole code flow,
    the person consenting in their browser."""

    def _run(rp, user, scope=None, organization=None):
        kwargs = {"scope": scope} if scope else {}
        authorization = rp.create_authorization_url(REDIRECT_URI, **kwargs)
        assert "code_challenge_method=S256" in authorization["url"]
        location = approve(browser(user), authorization["url"], organization=organization)
        answer = query_of(location)
        assert answer["state"] == authorization["state"], location
        token = rp.fetch_access_token(REDIRECT_URI, code=answer["code"],
                                      code_verifier=authorization["code_verifier"])
        return token, authorization.get("nonce")

    return _run


def test_discovery_lists_every_endpoint_and_only_what_the_server_accepts(live_server, urls):  # noqa: F811
    document = requests.get(f"{live_server.url}/.well-known/openid-configuration").json()
    base = live_server.url
    assert document["issuer"] == base
    assert document["authorization_endpoint"] == urls["authorize"]
    assert document["token_endpoint"] == urls["token"]
    assert document["userinfo_endpoint"] == f"{base}/oauth/userinfo/"
    assert document["jwks_uri"] == f"{base}/oauth/jwks/"
    assert document["device_authorization_endpoint"] == f"{base}/oauth/device-authorization/"
    assert document["revocation_endpoint"] == urls["revoke"]
    assert document["introspection_endpoint"] == urls["introspect"]
    assert document["response_types_supported"] == ["code"]
    assert document["code_challenge_methods_supported"] == ["S256"]
    assert document["id_token_signing_alg_values_supported"] == ["RS256"]
    assert {"openid", "email", "profile"} <= set(document["scopes_supported"])
    assert {"sub", "org", "email", "email_verified", "name"} <= set(document["claims_supported"])
    assert "urn:ietf:params:oauth:grant-type:device_code" in document["grant_types_supported"]

    rfc8414 = requests.get(f"{base}/.well-known/oauth-authorization-server").json()
    for name in ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri", "userinfo_endpoint",
                 "device_authorization_endpoint", "revocation_endpoint", "introspection_endpoint",
                 "code_challenge_methods_supported", "grant_types_supported", "response_types_supported"):
        assert rfc8414[name] == document[name], name


def test_code_flow_with_openid_gives_an_id_token_verified_against_the_jwks(relying_party, sign_in_with_portal,
                                                                          developer, org):
    developer.full_name = "Ada Lovelace"
    developer.save(update_fields=["full_name"])
    rp = relying_party()
    token, nonce = sign_in_with_portal(rp, developer)
    assert token["token_type"] == "Bearer" and token["id_token"]

    claims = rp.parse_id_token(token, nonce)  # signature against the JWKS, iss, aud, nonce, at_hash, exp
    assert claims["sub"] == str(developer.pk) and claims["sub"] != developer.email
    assert claims["org"] == org.slug
    assert claims["aud"] == rp.client_id and claims["nonce"] == nonce
    assert claims["email"] == developer.email and claims["email_verified"] is True  # the factory verifies the address
    assert claims["name"] == "Ada Lovelace"
    header = json.loads(jwt.JWT(jwt=token["id_token"]).token.objects["protected"])
    assert header["alg"] == "RS256" and header["kid"]

    userinfo = rp.userinfo(token=token)
    assert userinfo["sub"] == str(developer.pk)
    assert userinfo["org"] == org.slug
    assert userinfo["email"] == developer.email and userinfo["name"] == "Ada Lovelace"


def test_claims_follow_the_scopes_granted(relying_party, sign_in_with_portal, developer, org):
    rp = relying_party()
    token, nonce = sign_in_with_portal(rp, developer, scope="openid apps:read")
    claims = rp.parse_id_token(token, nonce)
    assert claims["sub"] == str(developer.pk) and claims["org"] == org.slug
    assert "email" not in claims and "name" not in claims
    assert "email" not in rp.userinfo(token=token)


def test_a_person_without_a_name_gets_no_name_claim(relying_party, sign_in_with_portal, developer):
    developer.full_name = ""
    developer.save(update_fields=["full_name"])
    rp = relying_party()
    token, nonce = sign_in_with_portal(rp, developer)
    assert "name" not in rp.parse_id_token(token, nonce)


def test_the_id_token_names_the_organization_the_person_chose(relying_party, sign_in_with_portal, developer,
                                                              other_org):
    from tests.factories import MembershipFactory

    MembershipFactory(organization=other_org, user=developer)
    rp = relying_party()
    token, nonce = sign_in_with_portal(rp, developer, organization=other_org.slug)
    assert rp.parse_id_token(token, nonce)["org"] == other_org.slug


def test_userinfo_refuses_a_token_whose_person_left_the_organization(relying_party, sign_in_with_portal,
                                                                     developer, org, owner):
    rp = relying_party()
    token, _nonce = sign_in_with_portal(rp, developer)
    membership = developer.memberships.get(organization=org)
    membership_remove(caller=access_organization_by_slug(owner, org.slug).caller, membership=membership)
    with pytest.raises(requests.HTTPError) as refused:
        rp.userinfo(token=token)
    assert refused.value.response.status_code == 401


def test_userinfo_needs_the_openid_scope(live_server, app, make_client, relying_party, sign_in_with_portal,
                                         developer):
    client, secret = make_client(app, grants=("authorization_code",), scopes=("apps:read", "openid"))
    rp = relying_party(client, secret)
    token, _nonce = sign_in_with_portal(rp, developer, scope="apps:read")
    assert "id_token" not in token
    response = requests.get(f"{live_server.url}/oauth/userinfo/",
                            headers={"Authorization": f"Bearer {token['access_token']}"})
    assert response.status_code == 403
    assert 'error="insufficient_scope"' in response.headers["WWW-Authenticate"]


def test_a_nonce_sent_is_in_the_id_token_and_a_wrong_one_is_refused(relying_party, sign_in_with_portal,
                                                                    developer):
    rp = relying_party()
    token, nonce = sign_in_with_portal(rp, developer)
    assert rp.parse_id_token(token, nonce)["nonce"] == nonce
    with pytest.raises(Exception, match="nonce"):
        rp.parse_id_token(token, "another-nonce")


def test_signing_key_is_made_on_first_use_and_stored_encrypted(relying_party, sign_in_with_portal, developer,
                                                               live_server):
    assert not SigningKey.objects.exists()
    rp = relying_party()
    sign_in_with_portal(rp, developer)
    key = SigningKey.objects.get()
    assert "PRIVATE KEY" not in key.encrypted_private_key
    assert decrypt(key.encrypted_private_key).startswith("-----BEGIN PRIVATE KEY-----")
    published = requests.get(f"{live_server.url}/oauth/jwks/").json()["keys"]
    assert [k["kid"] for k in published] == [key.kid]
    assert {"d", "p", "q"}.isdisjoint(published[0])  # the public half only
    assert published[0]["kty"] == "RSA" and published[0]["alg"] == "RS256" and published[0]["use"] == "sig"


def test_rotation_keeps_tokens_signed_by_the_old_key_verifiable(relying_party, sign_in_with_portal, developer,
                                                                live_server):
    rp = relying_party()
    old_token, old_nonce = sign_in_with_portal(rp, developer)
    old_kid = SigningKey.objects.get().kid

    call_command("rotate_signing_key")
    new_kid = SigningKey.objects.filter(retired_at__isnull=True).get().kid
    assert new_kid != old_kid
    keys = requests.get(f"{live_server.url}/oauth/jwks/").json()
    assert {k["kid"] for k in keys["keys"]} == {old_kid, new_kid}

    fresh = relying_party()  # a relying party that fetches the JWKS after the rotation
    assert fresh.parse_id_token(old_token, old_nonce)["sub"] == str(developer.pk)
    new_token, new_nonce = sign_in_with_portal(fresh, developer)
    header = json.loads(jwt.JWT(jwt=new_token["id_token"]).token.objects["protected"])
    assert header["kid"] == new_kid
    verified = jwt.JWT(jwt=new_token["id_token"], key=jwk.JWKSet.from_json(json.dumps(keys)))
    assert json.loads(verified.claims)["sub"] == str(developer.pk)


def test_a_retired_key_leaves_the_jwks_once_what_it_signed_has_expired(live_server, relying_party,
                                                                       sign_in_with_portal, developer):
    from datetime import timedelta

    from django.utils import timezone

    sign_in_with_portal(relying_party(), developer)
    call_command("rotate_signing_key")
    SigningKey.objects.filter(retired_at__isnull=False).update(retired_at=timezone.now() - timedelta(hours=2))
    kids = [k["kid"] for k in requests.get(f"{live_server.url}/oauth/jwks/").json()["keys"]]
    assert kids == [SigningKey.objects.get(retired_at__isnull=True).kid]


def test_an_unknown_scope_with_openid_goes_back_to_the_client(relying_party, oauth_env, developer, browser):  # noqa: F811
    rp = relying_party()
    authorization = rp.create_authorization_url(REDIRECT_URI, scope="openid nonsense")
    response = browser(developer).get(authorization["url"], allow_redirects=False)
    assert response.status_code == 302
    answer = query_of(response.headers["Location"])
    assert answer["error"] == "invalid_scope" and answer["state"] == authorization["state"]
