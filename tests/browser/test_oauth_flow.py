"""The authorization-code flow with PKCE as a third-party web app runs it: the client is registered in the
dashboard, a person approves it on the consent page in a real browser, the browser is sent back to the
app's loopback redirect URI (a tiny HTTP server of this test), and the app trades the code for a token."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlencode, urlsplit

import pytest
import requests
from playwright.sync_api import expect

from accounts.roles import Role
from portal import scopes as scope_registry
from tests.factories import ApplicationFactory, MembershipFactory, OrganizationFactory
from tests.oauthapps.conftest import pkce_pair, query_of

pytestmark = pytest.mark.django_db(transaction=True)

SCOPES = ("apps:read", "keys:read")


class CallbackServer(ThreadingHTTPServer):
    """The third-party app: records the query string of each ``/callback`` it receives and answers 200."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), CallbackHandler)
        self.queries: list[str] = []

    @property
    def redirect_uri(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/callback"


class CallbackHandler(BaseHTTPRequestHandler):
    server: CallbackServer

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        url = urlsplit(self.path)
        if url.path != "/callback":
            self.send_error(404)
            return
        self.server.queries.append(url.query)
        body = b"<!doctype html><title>Signed in</title><p>You can close this window.</p>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # the query holds a code: keep it out of logs
        pass


@pytest.fixture
def callback_server() -> Iterator[CallbackServer]:
    server = CallbackServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_authorization_code_flow_with_pkce_from_registration_to_api_call(new_page, live_server,
                                                                          callback_server) -> None:
    organization = OrganizationFactory(name="Acme")
    owner = MembershipFactory(organization=organization, role=Role.OWNER).user
    application = ApplicationFactory(organization=organization, name="Billing sync")
    page = new_page(user=owner)

    # The developer registers a confidential client for the authorization-code grant.
    page.goto(f"/orgs/{organization.slug}/apps/{application.pk}/")
    page.get_by_role("link", name="Register OAuth client").click()
    page.get_by_label(re.compile(r"^Name")).fill("Invoice Robot")  # not the checkbox "profile — Your name"
    page.get_by_role("radio", name=re.compile(r"^Confidential")).check()
    page.get_by_role("checkbox", name=re.compile(r"^authorization_code")).check()
    page.get_by_role("checkbox", name=re.compile(r"^client_credentials")).uncheck()
    page.get_by_label("Redirect URIs").fill(callback_server.redirect_uri)
    for scope in SCOPES:
        page.get_by_role("checkbox", name=re.compile(rf"^{re.escape(scope)} ")).check()
    page.get_by_role("button", name="Register client").click()
    client_id = page.get_by_label("Client ID").input_value()
    client_secret = page.get_by_label("Client secret").input_value()
    assert client_id and client_secret

    # The third-party app sends the person to the authorize endpoint.
    verifier, challenge = pkce_pair()
    authorize_url = f"{live_server.url}/oauth/authorize/?" + urlencode({
        "response_type": "code", "client_id": client_id, "redirect_uri": callback_server.redirect_uri,
        "scope": " ".join(SCOPES), "state": "state-42", "code_challenge": challenge, "code_challenge_method": "S256",
    })
    page.goto(authorize_url)
    expect(page.get_by_role("heading", name="Authorize Invoice Robot")).to_be_visible()
    consent = page.locator("main")
    expect(consent).to_contain_text("an application of Acme")
    for name, description in scope_registry.describe(SCOPES):
        expect(consent).to_contain_text(f"{name} · {description}")

    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(f"{callback_server.redirect_uri}?**")
    expect(page.locator("body")).to_contain_text("You can close this window.")

    assert len(callback_server.queries) == 1
    answer = query_of(f"?{callback_server.queries[0]}")
    assert answer["state"] == "state-42"

    tokens = requests.post(f"{live_server.url}/oauth/token/", auth=(client_id, client_secret), timeout=10, data={
        "grant_type": "authorization_code", "code": answer["code"], "redirect_uri": callback_server.redirect_uri,
        "code_verifier": verifier,
    })
    assert tokens.status_code == 200, tokens.text
    assert tokens.json()["expires_in"] == 3600

    me = requests.get(f"{live_server.url}/api/v1/me", timeout=10,
                      headers={"Authorization": f"Bearer {tokens.json()['access_token']}"})
    assert me.status_code == 200, me.text
    body = me.json()
    assert body["authType"] == "oauth2"
    assert sorted(body["scopes"]) == sorted(SCOPES)
    assert body["user"]["email"] == owner.email


@pytest.fixture
def loopback_client(callback_server):
    """A client of Acme registered with the callback server's loopback redirect URI, and a person of Acme."""
    from oauthapps.services.clients import oauth_client_create
    from portal.callers import Caller

    organization = OrganizationFactory(name="Acme")
    person = MembershipFactory(organization=organization, role=Role.DEVELOPER).user
    application = ApplicationFactory(organization=organization, name="Billing sync")
    client, _secret = oauth_client_create(
        caller=Caller.system(organization), application=application, name="Invoice Robot",
        grant_types=["authorization_code"], allowed_scopes=list(SCOPES), redirect_uris=[callback_server.redirect_uri])
    return client, person


def authorize_url(live_server, client, redirect_uri: str, **overrides: str | None) -> str:
    _verifier, challenge = pkce_pair()
    params = {"response_type": "code", "client_id": client.client_id, "redirect_uri": redirect_uri,
              "scope": " ".join(SCOPES), "state": "state-42", "code_challenge": challenge,
              "code_challenge_method": "S256", **overrides}
    return f"{live_server.url}/oauth/authorize/?" + urlencode({k: v for k, v in params.items() if v is not None})


def test_declining_on_the_consent_page_sends_the_browser_back_to_the_loopback_client(
    new_page, live_server, callback_server, loopback_client
) -> None:
    client, person = loopback_client
    page = new_page(user=person)
    page.goto(authorize_url(live_server, client, callback_server.redirect_uri))
    page.get_by_role("button", name="Cancel").click()
    page.wait_for_url(f"{callback_server.redirect_uri}?**")
    answer = query_of(f"?{callback_server.queries[0]}")
    assert answer["error"] == "access_denied" and answer["state"] == "state-42" and answer["error_description"]
    assert "code" not in answer


@pytest.mark.parametrize(("overrides", "error"), [
    ({"code_challenge": None, "code_challenge_method": None}, "invalid_request"),
    ({"code_challenge_method": "plain"}, "invalid_request"),
    ({"scope": "apps:read no-such:scope"}, "invalid_scope"),
    ({"response_type": "token"}, "unsupported_response_type"),
], ids=["no PKCE", "plain PKCE", "unknown scope", "response_type token"])
def test_a_refused_request_sends_the_browser_back_to_the_loopback_client(
    new_page, live_server, callback_server, loopback_client, overrides, error
) -> None:
    client, person = loopback_client
    page = new_page(user=person)
    page.goto(authorize_url(live_server, client, callback_server.redirect_uri, **overrides))
    page.wait_for_url(f"{callback_server.redirect_uri}?**")
    answer = query_of(f"?{callback_server.queries[0]}")
    assert answer["error"] == error and answer["state"] == "state-42" and answer["error_description"]
