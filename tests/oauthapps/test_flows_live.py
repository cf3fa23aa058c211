"""The OAuth 2.0 flows as a third party runs them: a real HTTP server (``live_server``), ``requests`` and
``requests-oauthlib``. The client library is told to accept plain http to 127.0.0.1; the server's rules
(https or loopback redirect URIs, PKCE S256, exact matching) are unchanged."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
import requests
from django.test import Client
from oauthlib.oauth2 import BackendApplicationClient
from requests.auth import HTTPBasicAuth
from requests_oauthlib import OAuth2Session

from tests.helpers import stored_text_containing
from tests.oauthapps.conftest import REDIRECT_URI, query_of

pytestmark = pytest.mark.django_db(transaction=True)

GRANTS = ("authorization_code", "refresh_token")


class FormFields(HTMLParser):
    """The consent form's inputs: hidden fields and the checked organization radio."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag != "input" or "name" not in attributes:
            return
        if attributes.get("type") == "hidden" or (attributes.get("type") == "radio" and "checked" in attributes):
            self.fields[attributes["name"]] = attributes.get("value") or ""


@pytest.fixture
def oauth_env(monkeypatch):
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")


@pytest.fixture
def urls(live_server):
    base = live_server.url
    return {
        "authorize": f"{base}/oauth/authorize/",
        "token": f"{base}/oauth/token/",
        "revoke": f"{base}/oauth/revoke/",
        "introspect": f"{base}/oauth/introspect/",
        "api": f"{base}/api/v1",
    }


@pytest.fixture
def browser(live_server):
    """``browser(user) -> requests.Session`` signed in as ``user`` on the live server."""

    def _browser(user) -> requests.Session:
        django_client = Client()
        django_client.force_login(user)
        session = requests.Session()
        session.cookies.set("sessionid", django_client.cookies["sessionid"].value)
        return session

    return _browser


@pytest.fixture
def approve(urls):
    """``approve(browser, authorization_url, organization=None, allow=True) -> Location`` of the answer: opens
    the consent page and submits it the way the person's browser would."""

    def _approve(session: requests.Session, authorization_url: str, organization: str | None = None,
                 allow: bool = True) -> str:
        page = session.get(authorization_url, allow_redirects=False)
        assert page.status_code == 200, page.text
        parser = FormFields()
        parser.feed(page.text)
        form = dict(parser.fields)
        assert form["csrfmiddlewaretoken"] and form["organization"]
        if organization is not None:
            form["organization"] = organization
        if allow:
            form["allow"] = "Authorize"
        answer = session.post(urls["authorize"], data=form, allow_redirects=False,
                              headers={"Referer": authorization_url})
        assert answer.status_code == 302, answer.text
        return answer.headers["Location"]

    return _approve


@pytest.fixture
def run_code_flow(oauth_env, urls, approve):
    """``run_code_flow(browser, client, secret, scope=[...]) -> (OAuth2Session, token)``: authorization code
    with PKCE S256 through the consent form, as requests-oauthlib runs it."""

    def _run(session, client, secret, scope=("apps:read",)):
        oauth = OAuth2Session(client.client_id, redirect_uri=REDIRECT_URI, scope=list(scope), pkce="S256")
        authorization_url, state = oauth.authorization_url(urls["authorize"])
        assert "code_challenge_method=S256" in authorization_url
        location = approve(session, authorization_url)
        assert location.startswith(REDIRECT_URI + "?") and query_of(location)["state"] == state
        token = oauth.fetch_token(urls["token"], authorization_response=location, client_secret=secret)
        return oauth, token

    return _run


def api_get(urls, token: str, path: str) -> requests.Response:
    return requests.get(urls["api"] + path, headers={"Authorization": f"Bearer {token}"})


def refresh(urls, client, secret, refresh_token: str) -> requests.Response:
    return requests.post(urls["token"], data={"grant_type": "refresh_token", "refresh_token": refresh_token},
                         auth=HTTPBasicAuth(client.client_id, secret))


@pytest.fixture
def web_client(app, make_client):
    return make_client(app, grants=GRANTS, scopes=("apps:read", "apps:write"))


# Flows ----------------------------------------------------------------------------------------------------


def test_client_credentials_with_requests_oauthlib(oauth_env, urls, app, make_client, org):
    client, secret = make_client(app, grants=("client_credentials",), scopes=("apps:read", "keys:read"))
    oauth = OAuth2Session(client=BackendApplicationClient(client_id=client.client_id))
    token = oauth.fetch_token(urls["token"], client_id=client.client_id, client_secret=secret, scope=["apps:read"])
    assert token["token_type"] == "Bearer"
    assert token["expires_in"] == 3600
    assert token["scope"] == ["apps:read"]
    assert "refresh_token" not in token
    me = oauth.get(urls["api"] + "/me").json()
    assert me["authType"] == "oauth2" and me["organization"]["slug"] == org.slug and me["user"] is None
    assert me["scopes"] == ["apps:read"]
    assert oauth.get(urls["api"] + "/applications").status_code == 200


def test_authorization_code_with_pkce_through_the_consent_form(run_code_flow, browser, web_client, developer, urls):
    client, secret = web_client
    oauth, token = run_code_flow(browser(developer), client, secret, scope=("apps:read", "apps:write"))
    assert token["token_type"] == "Bearer" and token["expires_in"] == 3600 and token["refresh_token"]
    assert sorted(token["scope"]) == ["apps:read", "apps:write"]
    me = oauth.get(urls["api"] + "/me").json()
    assert me["authType"] == "oauth2" and me["user"]["email"] == developer.email
    created = oauth.post(urls["api"] + "/applications", json={"name": "Made by OAuth"})
    assert created.status_code == 201


def test_token_endpoint_responses_are_not_cached(run_code_flow, browser, web_client, developer, urls):
    client, secret = web_client
    _oauth, token = run_code_flow(browser(developer), client, secret)
    response = refresh(urls, client, secret, token["refresh_token"])
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"


def test_refresh_rotates_the_refresh_token_and_refuses_the_old_one(run_code_flow, browser, web_client, developer,
                                                                   urls):
    client, secret = web_client
    _oauth, token = run_code_flow(browser(developer), client, secret)
    first = token["refresh_token"]
    second = refresh(urls, client, secret, first).json()
    third = refresh(urls, client, secret, second["refresh_token"]).json()
    assert len({first, second["refresh_token"], third["refresh_token"]}) == 3
    assert third["expires_in"] == 3600 and third["scope"] == "apps:read"
    assert api_get(urls, third["access_token"], "/hello").status_code == 200
    old = refresh(urls, client, secret, first)
    assert old.status_code == 400 and old.json()["error"] == "invalid_grant"


def test_reuse_of_a_spent_refresh_token_revokes_the_family(run_code_flow, browser, web_client, developer, urls):
    client, secret = web_client
    _oauth, token = run_code_flow(browser(developer), client, secret)
    newest = refresh(urls, client, secret, token["refresh_token"]).json()
    assert api_get(urls, newest["access_token"], "/hello").status_code == 200

    reuse = refresh(urls, client, secret, token["refresh_token"])
    assert reuse.status_code == 400 and reuse.json()["error"] == "invalid_grant"
    after = refresh(urls, client, secret, newest["refresh_token"])
    assert after.status_code == 400 and after.json()["error"] == "invalid_grant"
    assert api_get(urls, newest["access_token"], "/hello").status_code == 401


def test_revoked_access_token_is_refused_by_the_api(oauth_env, urls, app, make_client):
    client, secret = make_client(app)
    oauth = OAuth2Session(client=BackendApplicationClient(client_id=client.client_id))
    token = oauth.fetch_token(urls["token"], client_id=client.client_id, client_secret=secret)
    assert api_get(urls, token["access_token"], "/hello").status_code == 200
    revoked = requests.post(urls["revoke"], data={"token": token["access_token"], "token_type_hint": "access_token"},
                            auth=HTTPBasicAuth(client.client_id, secret))
    assert revoked.status_code == 200
    refused = api_get(urls, token["access_token"], "/hello")
    assert refused.status_code == 401 and refused.json()["code"] == "AUTH_FAILED"


def test_revoking_a_refresh_token_ends_it(run_code_flow, browser, web_client, developer, urls):
    client, secret = web_client
    _oauth, token = run_code_flow(browser(developer), client, secret)
    revoked = requests.post(urls["revoke"], data={"token": token["refresh_token"]},
                            auth=HTTPBasicAuth(client.client_id, secret))
    assert revoked.status_code == 200
    assert refresh(urls, client, secret, token["refresh_token"]).json()["error"] == "invalid_grant"


# Introspection --------------------------------------------------------------------------------------------


@pytest.fixture
def issued(oauth_env, urls, app, make_client):
    """A client-credentials client of ``org`` and a live token of it: ``(client, secret, access_token)``."""
    client, secret = make_client(app, scopes=("apps:read", "keys:read"))
    token = requests.post(urls["token"], data={"grant_type": "client_credentials", "scope": "apps:read"},
                          auth=HTTPBasicAuth(client.client_id, secret)).json()["access_token"]
    return client, secret, token


def test_introspection_by_a_client_of_the_tokens_organization_is_active(issued, urls, app, make_client):
    client, _secret, token = issued
    sibling, sibling_secret = make_client(app, name="resource server")
    response = requests.post(urls["introspect"], data={"token": token},
                             auth=HTTPBasicAuth(sibling.client_id, sibling_secret))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = response.json()
    assert body["active"] is True
    assert body["client_id"] == client.client_id and body["scope"] == "apps:read"
    assert body["token_type"] == "Bearer" and body["exp"] - body["iat"] == 3600


def test_introspection_accepts_client_credentials_in_the_body(issued, urls):
    client, secret, token = issued
    response = requests.post(urls["introspect"],
                             data={"token": token, "client_id": client.client_id, "client_secret": secret})
    assert response.status_code == 200 and response.json()["active"] is True


def test_introspection_by_another_organizations_client_is_401(issued, urls, other_app, make_client):
    _client, _secret, token = issued
    stranger, stranger_secret = make_client(other_app)
    response = requests.post(urls["introspect"], data={"token": token},
                             auth=HTTPBasicAuth(stranger.client_id, stranger_secret))
    assert response.status_code == 401
    assert "active" not in response.json()


@pytest.mark.parametrize("auth", [None, ("unknown-client", "secret"), ("own", "wrong secret")])
def test_introspection_without_valid_client_authentication_is_401(issued, urls, auth):
    client, _secret, token = issued
    if auth and auth[0] == "own":
        auth = (client.client_id, auth[1])
    response = requests.post(urls["introspect"], data={"token": token}, auth=HTTPBasicAuth(*auth) if auth else None)
    assert response.status_code == 401
    assert "active" not in response.json()


def test_introspection_of_an_unknown_token_is_inactive(issued, urls):
    client, secret, _token = issued
    response = requests.post(urls["introspect"], data={"token": "not-a-token"},
                             auth=HTTPBasicAuth(client.client_id, secret))
    assert response.status_code == 200
    assert response.json() == {"active": False}


def test_introspection_of_a_revoked_token_is_inactive(issued, urls):
    client, secret, token = issued
    requests.post(urls["revoke"], data={"token": token}, auth=HTTPBasicAuth(client.client_id, secret))
    response = requests.post(urls["introspect"], data={"token": token}, auth=HTTPBasicAuth(client.client_id, secret))
    assert response.json() == {"active": False}


# Metadata -------------------------------------------------------------------------------------------------


def test_metadata_document_lists_the_endpoints_and_only_what_the_server_accepts(live_server, urls):
    response = requests.get(f"{live_server.url}/.well-known/oauth-authorization-server")
    assert response.status_code == 200
    body = response.json()
    assert body["authorization_endpoint"] == urls["authorize"]
    assert body["token_endpoint"] == urls["token"]
    assert body["revocation_endpoint"] == urls["revoke"]
    assert body["introspection_endpoint"] == urls["introspect"]
    assert sorted(body["grant_types_supported"]) == ["authorization_code", "client_credentials", "refresh_token",
                                                     "urn:ietf:params:oauth:grant-type:device_code"]
    assert body["response_types_supported"] == ["code"]
    assert body["code_challenge_methods_supported"] == ["S256"]
    assert "apps:read" in body["scopes_supported"]
    assert body["issuer"]


# At rest --------------------------------------------------------------------------------------------------


def test_no_token_or_secret_is_stored_in_clear_after_a_full_flow(run_code_flow, browser, web_client, developer,
                                                                 urls):
    client, secret = web_client
    _oauth, token = run_code_flow(browser(developer), client, secret)
    refreshed = refresh(urls, client, secret, token["refresh_token"]).json()
    for value in (secret, token["access_token"], token["refresh_token"], refreshed["access_token"],
                  refreshed["refresh_token"]):
        assert stored_text_containing(value) == []
