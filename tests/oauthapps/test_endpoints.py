"""The OAuth 2.0 endpoints' refusals and policy (contract section 6), through Django's test client, and
``POST /api/v1/auth``."""

from __future__ import annotations

import base64
from datetime import timedelta
from html import escape
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.utils import timezone
from oauth2_provider.models import Grant

from accounts.organizations.services import organization_suspend
from accounts.roles import Role
from portal.callers import Caller
from tests.factories import MembershipFactory
from tests.helpers import stored_text_containing
from tests.oauthapps.conftest import REDIRECT_URI, authorize_params, pkce_pair, query_of

pytestmark = pytest.mark.django_db

AUTH_CODE = ("authorization_code", "refresh_token")


@pytest.fixture
def service(app, make_client):
    """A client-credentials client of ``org`` allowed apps:read and apps:write."""
    return make_client(app, grants=("client_credentials",), scopes=("apps:read", "apps:write"))


@pytest.fixture
def web_client(app, make_client):
    """A confidential authorization-code client of ``org``."""
    return make_client(app, grants=AUTH_CODE, scopes=("apps:read", "apps:write"))


def client_credentials(token_request, client, secret, **extra):
    return token_request({"grant_type": "client_credentials", **extra}, client, secret)


def bearer(api_client, token):
    return api_client(token, header="Bearer")


# Token endpoint: client authentication and grants ----------------------------------------------------------


def test_client_credentials_token_works_on_the_api(service, token_request, api_client, org):
    client, secret = service
    response = client_credentials(token_request, client, secret, scope="apps:read")
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer" and body["scope"] == "apps:read"
    me = bearer(api_client, body["access_token"]).get("/api/v1/me").json()
    assert me["authType"] == "oauth2" and me["organization"]["slug"] == org.slug and me["scopes"] == ["apps:read"]


def test_token_responses_send_no_store_and_live_one_hour(service, token_request):
    response = client_credentials(token_request, *service)
    assert response["Cache-Control"] == "no-store"
    assert response.json()["expires_in"] == 3600


def test_wrong_client_secret_is_invalid_client(service, token_request):
    client, _secret = service
    response = client_credentials(token_request, client, "not-the-secret")
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_secret_in_the_body_works_as_well_as_basic(service, token_request):
    client, secret = service
    response = token_request({"grant_type": "client_credentials", "client_id": client.client_id,
                              "client_secret": secret})
    assert response.status_code == 200


@pytest.fixture
def two_clients(app, make_client):
    """``(own, own_secret, other, other_secret)``: two client-credentials clients of ``org``."""
    own, own_secret = make_client(app, grants=("client_credentials",), scopes=("apps:read",), name="own")
    other, other_secret = make_client(app, grants=("client_credentials",), scopes=("apps:read",), name="other")
    return own, own_secret, other, other_secret


TWO_METHODS = {
    "a body secret": {"client_secret": "own"},
    "body credentials of the same client": {"client_id": "own", "client_secret": "own"},
    "another client's id": {"client_id": "other"},
    "another client's credentials": {"client_id": "other", "client_secret": "other"},
}


@pytest.mark.parametrize("basic_secret", ["right", "wrong"])
@pytest.mark.parametrize("body", TWO_METHODS.values(), ids=TWO_METHODS.keys())
def test_basic_auth_with_client_credentials_in_the_body_is_invalid_request(two_clients, token_request, body,
                                                                          basic_secret):
    from oauth2_provider.models import AccessToken

    own, own_secret, other, other_secret = two_clients
    values = {("client_id", "own"): own.client_id, ("client_secret", "own"): own_secret,
              ("client_id", "other"): other.client_id, ("client_secret", "other"): other_secret}
    form = {"grant_type": "client_credentials", **{name: values[name, who] for name, who in body.items()}}
    response = token_request(form, own, own_secret if basic_secret == "right" else "not-the-secret")
    assert response.status_code == 400, response.content
    assert response.json()["error"] == "invalid_request"
    assert response.json()["error_description"]
    assert response["Cache-Control"] == "no-store"
    assert not AccessToken.objects.exists()


def test_basic_auth_with_the_same_client_id_in_the_body_is_one_method(service, token_request):
    client, secret = service
    response = token_request({"grant_type": "client_credentials", "client_id": client.client_id}, client, secret)
    assert response.status_code == 200


def test_revocation_refuses_two_authentication_methods_too(service, token_request):
    client, secret = service
    token = client_credentials(token_request, client, secret).json()["access_token"]
    basic = base64.b64encode(f"{client.client_id}:{secret}".encode()).decode()
    response = Client().post("/oauth/revoke/", {"token": token, "client_id": client.client_id,
                                                "client_secret": secret}, HTTP_AUTHORIZATION=f"Basic {basic}")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_scope_beyond_the_clients_allowed_scopes_is_invalid_scope(service, token_request):
    response = client_credentials(token_request, *service, scope="apps:read keys:write")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"


def test_unknown_scope_is_invalid_scope(service, token_request):
    response = client_credentials(token_request, *service, scope="orders:read")
    assert response.json()["error"] == "invalid_scope"


def test_grant_the_client_is_not_allowed_is_unauthorized_client(web_client, token_request):
    response = client_credentials(token_request, *web_client)
    assert response.status_code == 400
    assert response.json()["error"] == "unauthorized_client"


def test_client_credentials_only_client_cannot_refresh(service, token_request):
    response = token_request({"grant_type": "refresh_token", "refresh_token": "whatever"}, *service)
    assert response.json()["error"] == "unauthorized_client"


@pytest.mark.parametrize("grant_type", ["password", "implicit", "urn:ietf:params:oauth:grant-type:jwt-bearer"])
def test_grants_the_portal_does_not_offer_are_unsupported_grant_type(service, token_request, grant_type, owner):
    response = token_request({"grant_type": grant_type, "username": owner.email,
                              "password": "correct-horse-battery-staple"}, *service)
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"
    assert "access_token" not in response.json()


def test_client_of_a_suspended_organization_cannot_get_tokens_and_its_tokens_stop(
    service, token_request, api_client, org
):
    client, secret = service
    token = client_credentials(token_request, client, secret).json()["access_token"]
    assert bearer(api_client, token).get("/api/v1/hello").status_code == 200
    organization_suspend(caller=Caller.system(org))
    response = client_credentials(token_request, client, secret)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    refused = bearer(api_client, token).get("/api/v1/hello")
    assert refused.status_code == 401
    assert refused.json()["code"] == "AUTH_FAILED"


def test_client_secret_is_stored_as_a_fast_keyed_hash(service):
    client, secret = service
    client.refresh_from_db()
    assert client.client_secret.startswith("portal_client_secret_hmac$")
    assert secret not in client.client_secret


# Authorization endpoint -----------------------------------------------------------------------------------


def test_consent_page_names_the_client_its_organization_and_each_scope(web_client, login, developer, api_client):
    client, _secret = web_client
    _verifier, challenge = pkce_pair()
    query = authorize_params(client, scope="apps:read apps:write", challenge=challenge)
    page = login(developer).get("/oauth/authorize/?" + urlencode(query))
    assert page.status_code == 200
    text = page.content.decode()
    assert client.name in text and "Acme" in text
    assert "apps:read" in text and "apps:write" in text
    assert 'name="organization"' in text and 'value="acme"' in text
    for scope in api_client().get("/api/v1/scopes").json()["scopes"]:
        if scope["name"] in ("apps:read", "apps:write"):
            assert escape(scope["description"]) in text


def test_authorize_requires_a_signed_in_person(web_client, client):
    oauth_client, _secret = web_client
    _verifier, challenge = pkce_pair()
    response = client.get("/oauth/authorize/?" + urlencode(authorize_params(oauth_client, challenge=challenge)))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert not Grant.objects.exists()


def test_authorization_code_flow_with_pkce_gives_tokens_of_the_chosen_organization(
    web_client, login, developer, code_tokens, api_client, org
):
    client, secret = web_client
    tokens = code_tokens(login(developer), client, secret, org.slug, scope="apps:read apps:write")
    assert tokens["expires_in"] == 3600 and tokens["refresh_token"]
    me = bearer(api_client, tokens["access_token"]).get("/api/v1/me").json()
    assert me["authType"] == "oauth2"
    assert me["organization"]["slug"] == "acme"
    assert me["user"]["email"] == developer.email
    assert sorted(me["scopes"]) == ["apps:read", "apps:write"]


def test_authorization_response_carries_state_and_issuer(web_client, login, developer, consent, org):
    client, _secret = web_client
    _verifier, challenge = pkce_pair()
    response = consent(login(developer), client, organization=org.slug, challenge=challenge)
    location = response["Location"]
    assert location.startswith(REDIRECT_URI + "?")
    query = query_of(location)
    assert query["state"] == "xyz" and query["code"] and query["iss"]


def test_authorize_without_pkce_issues_no_code(web_client, login, developer):
    client, _secret = web_client
    query = authorize_params(client, challenge=None, code_challenge_method=None)
    response = login(developer).get("/oauth/authorize/?" + urlencode(query))
    assert response.status_code == 302
    location = query_of(response["Location"])
    assert location["error"] == "invalid_request" and "code" not in location
    assert location["error_description"] == "Code challenge required."
    assert not Grant.objects.exists()


def test_plain_pkce_is_refused_when_the_consent_form_is_tampered_with(web_client, login, developer, org):
    # The GET is refused before the consent page (below); the form's hidden fields are checked again.
    client, _secret = web_client
    form = {**authorize_params(client, challenge="a" * 50, code_challenge_method="plain"),
            "organization": org.slug, "allow": "Authorize"}
    response = login(developer).post("/oauth/authorize/", form)
    assert response.status_code == 302
    location = query_of(response["Location"])
    assert location["error"] == "invalid_request" and "code" not in location
    assert "S256" in location["error_description"]
    assert not Grant.objects.exists()


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "https://evil.example.com/callback",
        "https://client.example.com/callback/",
        "https://client.example.com/callback?x=1",
        "https://client.example.com/Callback",
        "http://client.example.com/callback",
    ],
)
def test_unregistered_redirect_uri_shows_an_error_page_and_never_redirects(web_client, login, developer,
                                                                           redirect_uri):
    client, _secret = web_client
    _verifier, challenge = pkce_pair()
    query = authorize_params(client, challenge=challenge, redirect_uri=redirect_uri)
    response = login(developer).get("/oauth/authorize/?" + urlencode(query))
    assert response.status_code == 400
    assert not response.has_header("Location")
    assert "cannot continue" in response.content.decode()


def test_unknown_client_id_shows_an_error_page_and_never_redirects(web_client, login, developer):
    client, _secret = web_client
    _verifier, challenge = pkce_pair()
    query = authorize_params(client, challenge=challenge, client_id="no-such-client")
    response = login(developer).get("/oauth/authorize/?" + urlencode(query))
    assert response.status_code == 400
    assert not response.has_header("Location")
    assert "cannot continue" in response.content.decode()


def test_implicit_response_type_token_is_refused(web_client, login, developer):
    client, _secret = web_client
    _verifier, challenge = pkce_pair()
    query = authorize_params(client, challenge=challenge, response_type="token")
    response = login(developer).get("/oauth/authorize/?" + urlencode(query))
    if response.status_code == 302:
        location = response["Location"]
        assert "access_token" not in location
        assert query_of(location)["error"] == "unsupported_response_type"
    else:
        assert response.status_code == 400
    assert "access_token" not in response.content.decode()


def test_authorize_scope_beyond_the_clients_allowed_scopes_redirects_with_invalid_scope(
    web_client, login, developer
):
    client, _secret = web_client
    _verifier, challenge = pkce_pair()
    query = authorize_params(client, challenge=challenge, scope="apps:read team:write")
    response = login(developer).get("/oauth/authorize/?" + urlencode(query))
    assert response.status_code == 302
    location = query_of(response["Location"])
    assert response["Location"].startswith(REDIRECT_URI)
    assert location["error"] == "invalid_scope" and "code" not in location


def test_cancel_redirects_with_access_denied(web_client, login, developer, consent, org):
    client, _secret = web_client
    _verifier, challenge = pkce_pair()
    response = consent(login(developer), client, organization=org.slug, challenge=challenge, allow=False)
    assert response.status_code == 302
    location = query_of(response["Location"])
    assert location["error"] == "access_denied" and "code" not in location
    assert location["state"] == "xyz"
    assert not Grant.objects.exists()


LOOPBACK_URI = "http://127.0.0.1:8765/callback"


@pytest.fixture
def loopback_client(app, make_client):
    """A native app's client (RFC 8252): a loopback ``http`` redirect URI beside an ``https`` one."""
    return make_client(app, grants=AUTH_CODE, scopes=("apps:read", "apps:write"),
                       redirect_uris=[REDIRECT_URI, LOOPBACK_URI])


def assert_error_went_back_to(response, redirect_uri: str, error: str) -> dict[str, str]:
    """A 302 to exactly ``redirect_uri`` with ``error``, a description, the client's ``state`` and the issuer."""
    assert response.status_code == 302, response.content
    location = response["Location"]
    assert location.startswith(redirect_uri + "?"), location
    query = query_of(location)
    assert query["error"] == error
    assert query["error_description"]
    assert query["state"] == "xyz"
    assert query["iss"] == "http://testserver"
    assert "code" not in query
    assert not Grant.objects.exists()
    return query


@pytest.mark.parametrize("redirect_uri", [LOOPBACK_URI, REDIRECT_URI])
@pytest.mark.parametrize(
    ("overrides", "error", "description"),
    [
        ({"challenge": None, "code_challenge_method": None}, "invalid_request", "Code challenge required."),
        ({"challenge": "a" * 50, "code_challenge_method": "plain"}, "invalid_request", "S256"),
        ({"challenge": "a" * 50, "code_challenge_method": None}, "invalid_request", "S256"),  # plain by default
        ({"scope": "apps:read no-such:scope"}, "invalid_scope", ""),
        ({"scope": "apps:read team:write"}, "invalid_scope", ""),
        ({"response_type": "token"}, "unsupported_response_type", ""),
        ({"response_type": "id_token"}, "unsupported_response_type", ""),
        ({"response_type": None}, "invalid_request", "response_type"),
    ],
)
def test_authorization_errors_go_back_to_the_registered_uri_loopback_http_included(
    loopback_client, login, developer, redirect_uri, overrides, error, description
):
    client, _secret = loopback_client
    _verifier, challenge = pkce_pair()
    query = authorize_params(client, **{"challenge": challenge, "redirect_uri": redirect_uri, **overrides})
    response = login(developer).get("/oauth/authorize/?" + urlencode(query))
    answer = assert_error_went_back_to(response, redirect_uri, error)
    assert description in answer["error_description"]


def test_declining_on_the_consent_page_goes_back_to_a_loopback_client(loopback_client, login, developer, consent,
                                                                      org):
    client, _secret = loopback_client
    _verifier, challenge = pkce_pair()
    response = consent(login(developer), client, organization=org.slug, challenge=challenge,
                       redirect_uri=LOOPBACK_URI, allow=False)
    assert_error_went_back_to(response, LOOPBACK_URI, "access_denied")


def test_plain_pkce_is_refused_before_the_consent_page(web_client, login, developer):
    client, _secret = web_client
    query = authorize_params(client, challenge="a" * 50, code_challenge_method="plain")
    response = login(developer).get("/oauth/authorize/?" + urlencode(query))
    assert_error_went_back_to(response, REDIRECT_URI, "invalid_request")


@pytest.mark.parametrize(
    "overrides",
    [
        {"redirect_uri": "http://127.0.0.1:8765/other"},
        {"redirect_uri": "http://localhost:8765/callback"},
        {"redirect_uri": "http://127.0.0.1:8765/callback/"},
        {"redirect_uri": "http://127.0.0.2:8765/callback"},
        {"redirect_uri": LOOPBACK_URI, "client_id": "no-such-client"},
        {"redirect_uri": "http://127.0.0.1:8765/other", "challenge": None},  # the bad URI wins over PKCE
        {"redirect_uri": "http://127.0.0.1:8765/other", "response_type": "token"},
        {"redirect_uri": "http://127.0.0.1:8765/other", "scope": "no-such:scope"},
        {"redirect_uri": LOOPBACK_URI, "client_id": "no-such-client", "challenge": None},
    ],
)
def test_bad_redirect_uri_or_client_id_of_a_loopback_client_shows_an_error_page(loopback_client, login, developer,
                                                                                 overrides):
    client, _secret = loopback_client
    _verifier, challenge = pkce_pair()
    query = authorize_params(client, **{"challenge": challenge, **overrides})
    response = login(developer).get("/oauth/authorize/?" + urlencode(query))
    assert response.status_code == 400
    assert not response.has_header("Location")
    assert "cannot continue" in response.content.decode()
    assert not Grant.objects.exists()


def test_viewer_grant_is_cut_to_read_scopes(web_client, login, viewer, code_tokens, api_client, org):
    client, secret = web_client
    tokens = code_tokens(login(viewer), client, secret, org.slug, scope="apps:read apps:write")
    assert tokens["scope"].split() == ["apps:read"]
    caller = bearer(api_client, tokens["access_token"])
    assert caller.get("/api/v1/me").json()["scopes"] == ["apps:read"]
    refused = caller.post("/api/v1/applications", {"name": "Nope"}, format="json")
    assert refused.status_code == 403
    assert refused.json()["code"] == "INSUFFICIENT_SCOPE"


def test_person_in_two_organizations_picks_the_second_and_the_token_acts_there(
    web_client, login, developer, code_tokens, api_client, other_org
):
    MembershipFactory(organization=other_org, user=developer, role=Role.ADMIN)
    client, secret = web_client
    tokens = code_tokens(login(developer), client, secret, other_org.slug)
    me = bearer(api_client, tokens["access_token"]).get("/api/v1/me").json()
    assert me["organization"]["slug"] == "globex"


def test_consent_for_an_organization_the_person_is_not_in_is_refused(
    web_client, login, developer, consent, other_org
):
    client, _secret = web_client
    _verifier, challenge = pkce_pair()
    response = consent(login(developer), client, organization=other_org.slug, challenge=challenge)
    assert response.status_code == 200
    assert "Choose one of your organizations." in response.content.decode()
    assert not Grant.objects.exists()


def test_public_client_runs_the_code_flow_with_pkce_and_no_secret(app, make_client, login, developer,
                                                                  authorize_code, token_request, org):
    client, secret = make_client(app, grants=AUTH_CODE, scopes=("apps:read",), client_type="public")
    assert secret is None
    code, verifier = authorize_code(login(developer), client, org.slug)
    exchange = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI,
                "code_verifier": verifier}
    tokens = token_request(exchange, client).json()
    assert tokens["access_token"] and tokens["refresh_token"]
    refreshed = token_request({"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}, client)
    assert refreshed.status_code == 200


def test_client_not_allowed_the_refresh_grant_gets_no_refresh_token(app, make_client, login, developer,
                                                                    code_tokens, org):
    from oauth2_provider.models import RefreshToken

    client, secret = make_client(app, grants=("authorization_code",), scopes=("apps:read",))
    tokens = code_tokens(login(developer), client, secret, org.slug)
    assert tokens["access_token"] and "refresh_token" not in tokens
    assert not RefreshToken.objects.exists()


def test_refresh_cannot_widen_the_granted_scope(web_client, login, developer, code_tokens, token_request, org):
    client, secret = web_client
    tokens = code_tokens(login(developer), client, secret, org.slug, scope="apps:read")
    response = token_request({"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"],
                              "scope": "apps:read apps:write"}, client, secret)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"


def test_another_client_cannot_revoke_a_token_it_does_not_hold(service, token_request, api_client, other_app,
                                                               make_client):
    from django.test import Client

    token = client_credentials(token_request, *service).json()["access_token"]
    stranger, stranger_secret = make_client(other_app)
    response = Client().post("/oauth/revoke/", {"token": token, "client_id": stranger.client_id,
                                                "client_secret": stranger_secret})
    assert response.status_code == 200  # RFC 7009: the answer does not say whether the token existed
    assert bearer(api_client, token).get("/api/v1/hello").status_code == 200


# Codes ----------------------------------------------------------------------------------------------------


def test_replayed_code_is_invalid_grant_and_revokes_what_it_issued(
    web_client, login, developer, authorize_code, token_request, api_client, org
):
    client, secret = web_client
    code, verifier = authorize_code(login(developer), client, org.slug)
    exchange = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI,
                "code_verifier": verifier}
    tokens = token_request(exchange, client, secret).json()
    assert bearer(api_client, tokens["access_token"]).get("/api/v1/hello").status_code == 200

    replay = token_request(exchange, client, secret)
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"
    assert bearer(api_client, tokens["access_token"]).get("/api/v1/hello").status_code == 401
    refresh = token_request({"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}, client, secret)
    assert refresh.json()["error"] == "invalid_grant"


def test_expired_code_is_invalid_grant(web_client, login, developer, authorize_code, token_request, org):
    client, secret = web_client
    code, verifier = authorize_code(login(developer), client, org.slug)
    Grant.objects.update(expires=timezone.now() - timedelta(seconds=1))
    response = token_request({"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI,
                              "code_verifier": verifier}, client, secret)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_code_lives_sixty_seconds(web_client, login, developer, authorize_code, org):
    client, _secret = web_client
    authorize_code(login(developer), client, org.slug)
    grant = Grant.objects.get()
    assert timedelta(seconds=55) < grant.expires - timezone.now() <= timedelta(seconds=60)


def test_wrong_code_verifier_is_invalid_grant(web_client, login, developer, authorize_code, token_request, org):
    client, secret = web_client
    code, _verifier = authorize_code(login(developer), client, org.slug)
    other_verifier, _challenge = pkce_pair()
    response = token_request({"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI,
                              "code_verifier": other_verifier}, client, secret)
    assert response.json()["error"] == "invalid_grant"


def test_code_exchange_without_verifier_is_refused(web_client, login, developer, authorize_code, token_request, org):
    client, secret = web_client
    code, _verifier = authorize_code(login(developer), client, org.slug)
    response = token_request({"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI},
                             client, secret)
    assert response.status_code == 400
    assert "access_token" not in response.json()


def test_code_of_another_client_is_invalid_grant(web_client, app, make_client, login, developer, authorize_code,
                                                 token_request, org):
    client, _secret = web_client
    thief, thief_secret = make_client(app, grants=AUTH_CODE, scopes=("apps:read",), name="thief")
    code, verifier = authorize_code(login(developer), client, org.slug)
    response = token_request({"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI,
                              "code_verifier": verifier}, thief, thief_secret)
    assert response.json()["error"] == "invalid_grant"


def test_code_redeemed_with_another_registered_redirect_uri_is_invalid_grant(
    app, make_client, login, developer, authorize_code, token_request, org
):
    from oauth2_provider.models import AccessToken

    client, secret = make_client(app, grants=AUTH_CODE, scopes=("apps:read",),
                                 redirect_uris=[REDIRECT_URI, "https://client.example.com/other"])
    code, verifier = authorize_code(login(developer), client, org.slug)
    response = token_request({"grant_type": "authorization_code", "code": code,
                              "redirect_uri": "https://client.example.com/other", "code_verifier": verifier},
                             client, secret)
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_grant", "error_description": "Mismatching redirect URI."}
    assert not AccessToken.objects.exists()


def test_code_redeemed_with_basic_auth_and_another_clients_id_is_invalid_request(
    web_client, app, make_client, login, developer, authorize_code, token_request, org
):
    from oauth2_provider.models import AccessToken

    client, secret = web_client
    other, _other_secret = make_client(app, grants=AUTH_CODE, scopes=("apps:read",), name="other")
    code, verifier = authorize_code(login(developer), client, org.slug)
    response = token_request({"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI,
                              "code_verifier": verifier, "client_id": other.client_id}, client, secret)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert not AccessToken.objects.exists()


# Tokens on the API ----------------------------------------------------------------------------------------


def test_token_without_apps_write_gets_insufficient_scope(service, token_request, api_client):
    token = client_credentials(token_request, *service, scope="apps:read").json()["access_token"]
    response = bearer(api_client, token).post("/api/v1/applications", {"name": "New"}, format="json")
    assert response.status_code == 403
    body = response.json()
    assert body["code"] == "INSUFFICIENT_SCOPE" and body["requiredScopes"] == ["apps:write"]


def test_token_with_apps_write_can_create_an_application(service, token_request, api_client):
    token = client_credentials(token_request, *service, scope="apps:write").json()["access_token"]
    response = bearer(api_client, token).post("/api/v1/applications", {"name": "New"}, format="json")
    assert response.status_code == 201


def test_token_of_one_organization_sees_another_organizations_ids_as_404(
    service, token_request, api_client, other_app
):
    token = client_credentials(token_request, *service).json()["access_token"]
    caller = bearer(api_client, token)
    assert caller.get(f"/api/v1/applications/{other_app.pk}").status_code == 404
    assert caller.get("/api/v1/applications").json()["results"] != []
    assert other_app.pk not in [a["id"] for a in caller.get("/api/v1/applications").json()["results"]]


@pytest.mark.parametrize("token", ["", "garbage", "x" * 300, "portal_live_notakey"])
def test_unknown_bearer_token_is_auth_failed(api_client, token, db):
    response = api_client(token or " ", header="Bearer").get("/api/v1/hello")
    assert response.status_code == 401
    assert response.json()["code"] == "AUTH_FAILED"


def test_expired_access_token_is_auth_failed(service, token_request, api_client):
    from oauth2_provider.models import AccessToken

    token = client_credentials(token_request, *service).json()["access_token"]
    AccessToken.objects.update(expires=timezone.now() - timedelta(seconds=1))
    assert bearer(api_client, token).get("/api/v1/hello").status_code == 401


def test_access_token_in_the_query_string_is_ignored(service, token_request, api_client):
    token = client_credentials(token_request, *service).json()["access_token"]
    assert api_client().get(f"/api/v1/hello?access_token={token}").status_code == 401


def test_person_removed_from_the_organization_loses_their_tokens(
    web_client, login, developer, code_tokens, api_client, org
):
    from accounts.models import Membership

    client, secret = web_client
    tokens = code_tokens(login(developer), client, secret, org.slug)
    Membership.objects.filter(user=developer, organization=org).delete()
    assert bearer(api_client, tokens["access_token"]).get("/api/v1/hello").status_code == 401


def test_tokens_and_secrets_are_not_stored_in_clear_after_a_full_flow(
    web_client, login, developer, code_tokens, token_request, org
):
    client, secret = web_client
    tokens = code_tokens(login(developer), client, secret, org.slug)
    refreshed = token_request({"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
                              client, secret).json()
    for value in (secret, tokens["access_token"], tokens["refresh_token"], refreshed["access_token"],
                  refreshed["refresh_token"]):
        assert stored_text_containing(value) == []


# POST /api/v1/auth -----------------------------------------------------------------------------------------


def test_json_auth_gives_a_bearer_token(service, api_client):
    client, secret = service
    response = api_client().post("/api/v1/auth", {"clientId": client.client_id, "clientSecret": secret,
                                                  "scope": "apps:read"}, format="json")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert set(body) == {"accessToken", "tokenType", "expiresIn", "scope"}
    assert body["tokenType"] == "Bearer" and body["expiresIn"] == 3600 and body["scope"] == "apps:read"
    assert bearer(api_client, body["accessToken"]).get("/api/v1/me").json()["authType"] == "oauth2"


def test_json_auth_without_scope_gives_the_clients_allowed_scopes(service, api_client):
    client, secret = service
    body = api_client().post("/api/v1/auth", {"clientId": client.client_id, "clientSecret": secret},
                             format="json").json()
    assert sorted(body["scope"].split()) == ["apps:read", "apps:write"]


@pytest.mark.parametrize("client_id", ["real", "unknown"])
def test_json_auth_with_a_wrong_secret_is_auth_failed(service, api_client, client_id):
    client, _secret = service
    response = api_client().post("/api/v1/auth", {
        "clientId": client.client_id if client_id == "real" else "no-such-client", "clientSecret": "wrong",
    }, format="json")
    assert response.status_code == 401
    assert response.json() == {"error": "Authentication failed", "code": "AUTH_FAILED"}
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("basic_client", ["same", "other"])
def test_json_auth_with_a_basic_header_too_is_a_validation_error(two_clients, api_client, basic_client):
    from oauth2_provider.models import AccessToken

    own, own_secret, other, other_secret = two_clients
    basic_id, basic_secret = (own.client_id, own_secret) if basic_client == "same" else (other.client_id,
                                                                                           other_secret)
    basic = base64.b64encode(f"{basic_id}:{basic_secret}".encode()).decode()
    response = api_client().post("/api/v1/auth", {"clientId": own.client_id, "clientSecret": own_secret},
                                 format="json", HTTP_AUTHORIZATION=f"Basic {basic}")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "VALIDATION_ERROR" and body["error"] == "Invalid input"
    assert list(body["details"]) == ["authorization"]
    assert not AccessToken.objects.exists()


@pytest.mark.parametrize("missing", ["clientId", "clientSecret"])
def test_json_auth_missing_field_is_a_validation_error_naming_it(service, api_client, missing):
    client, secret = service
    body = {"clientId": client.client_id, "clientSecret": secret}
    del body[missing]
    response = api_client().post("/api/v1/auth", body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "VALIDATION_ERROR"
    assert missing in response.json()["details"]


def test_json_auth_scope_beyond_the_ceiling_is_a_validation_error_on_scope(service, api_client):
    client, secret = service
    response = api_client().post("/api/v1/auth", {"clientId": client.client_id, "clientSecret": secret,
                                                  "scope": "apps:read team:write"}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "VALIDATION_ERROR" and body["details"]["scope"]


def test_json_auth_for_a_client_without_client_credentials_is_forbidden(web_client, api_client):
    client, secret = web_client
    response = api_client().post("/api/v1/auth", {"clientId": client.client_id, "clientSecret": secret},
                                 format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "FORBIDDEN"


def test_json_auth_for_a_suspended_organization_is_auth_failed(service, api_client, org):
    client, secret = service
    organization_suspend(caller=Caller.system(org))
    response = api_client().post("/api/v1/auth", {"clientId": client.client_id, "clientSecret": secret},
                                 format="json")
    assert response.status_code == 401
    assert response.json()["code"] == "AUTH_FAILED"


@pytest.mark.parametrize("body", TWO_METHODS.values(), ids=TWO_METHODS.keys())
def test_introspection_refuses_two_authentication_methods_too(two_clients, token_request, body):
    own, own_secret, other, other_secret = two_clients
    token = client_credentials(token_request, own, own_secret).json()["access_token"]
    values = {("client_id", "own"): own.client_id, ("client_secret", "own"): own_secret,
              ("client_id", "other"): other.client_id, ("client_secret", "other"): other_secret}
    form = {"token": token, **{name: values[name, who] for name, who in body.items()}}
    basic = base64.b64encode(f"{own.client_id}:{own_secret}".encode()).decode()
    response = Client().post("/oauth/introspect/", form, HTTP_AUTHORIZATION=f"Basic {basic}")
    assert response.status_code == 400, response.content
    assert response.json()["error"] == "invalid_request" and "active" not in response.json()
    alone = Client().post("/oauth/introspect/", {"token": token}, HTTP_AUTHORIZATION=f"Basic {basic}")
    assert alone.status_code == 200 and alone.json()["active"] is True
