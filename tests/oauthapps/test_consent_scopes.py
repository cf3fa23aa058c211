"""Consent scope by scope (contract section 19): the person unticks requested scopes (never ``openid``), the token
holds only the kept ones and its response's ``scope`` says so (RFC 6749 3.3), an endpoint needing a scope taken
away answers 403 INSUFFICIENT_SCOPE; the same on the device flow's page; ``/account/authorized-apps/`` shows
each scope's last use and revokes."""

from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from security.models import ScopeUsage
from tests.oauthapps.test_device import DEVICE_GRANT, poll, start, wait_an_interval

pytestmark = pytest.mark.django_db

CALLBACK = "https://client.example.com/callback"


def _consent(browser: Client, client, scope: str):
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    query = {"response_type": "code", "client_id": client.client_id, "redirect_uri": CALLBACK, "scope": scope,
             "state": "s-1", "code_challenge": challenge, "code_challenge_method": "S256"}
    page = browser.get("/oauth/authorize/?" + urlencode(query))
    assert page.status_code == 200, page.content.decode()
    hidden = {field.name: field.value() for field in page.context["form"] if field.is_hidden
              and field.value() is not None}
    return page, hidden, verifier


def _exchange(client, secret, answer, verifier) -> dict:
    assert answer.status_code == 302 and answer["Location"].startswith(CALLBACK), answer.content.decode()
    code = parse_qs(urlsplit(answer["Location"]).query)["code"][0]
    basic = base64.b64encode(f"{client.client_id}:{secret}".encode()).decode()
    tokens = Client().post("/oauth/token/", urlencode({
        "grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK, "code_verifier": verifier,
    }), content_type="application/x-www-form-urlencoded", HTTP_AUTHORIZATION=f"Basic {basic}")
    assert tokens.status_code == 200, tokens.content.decode()
    return tokens.json()


def _api(path: str, token: str):
    return Client().get(path, HTTP_AUTHORIZATION=f"Bearer {token}")


@pytest.fixture
def web_client(app, make_client):
    return make_client(app, grants=("authorization_code", "refresh_token"),
                       scopes=("openid", "apps:read", "keys:read"), name="Acme reports")


def test_the_consent_page_offers_each_scope_ticked_and_openid_cannot_be_unticked(org, developer, login,
                                                                                 web_client) -> None:
    client, _ = web_client
    page, _, _ = _consent(login(developer), client, "openid apps:read keys:read")
    html = page.content.decode()
    for scope in ("openid", "apps:read", "keys:read"):
        assert f'name="keep_scope" value="{scope}"' in html
    openid_box = html.split('value="openid"')[1].split(">")[0]
    assert "disabled" in openid_box and "checked" in openid_box
    assert "disabled" not in html.split('value="keys:read"')[1].split(">")[0]
    assert 'name="allow" value="chosen"' in html


def test_a_form_posted_without_the_boxes_keeps_every_scope(org, developer, login, web_client) -> None:
    client, secret = web_client
    browser = login(developer)
    _, hidden, verifier = _consent(browser, client, "openid apps:read keys:read")
    answer = browser.post("/oauth/authorize/", {**hidden, "organization": org.slug, "allow": "Authorize"})
    assert sorted(_exchange(client, secret, answer, verifier)["scope"].split()) == ["apps:read", "keys:read",
                                                                                   "openid"]


def test_an_unticked_scope_is_not_in_the_token_and_its_endpoint_is_refused(org, developer, login, web_client) -> None:
    client, secret = web_client
    browser = login(developer)
    _, hidden, verifier = _consent(browser, client, "openid apps:read keys:read")
    answer = browser.post("/oauth/authorize/", {**hidden, "organization": org.slug, "allow": "chosen",
                                                "keep_scope": ["apps:read"]})
    tokens = _exchange(client, secret, answer, verifier)
    assert sorted(tokens["scope"].split()) == ["apps:read", "openid"]  # openid stays though not posted
    assert "id_token" in tokens
    assert _api("/api/v1/applications", tokens["access_token"]).status_code == 200
    refused = _api("/api/v1/api-keys", tokens["access_token"])
    assert refused.status_code == 403
    assert refused.json()["code"] == "INSUFFICIENT_SCOPE" and refused.json()["requiredScopes"] == ["keys:read"]


def test_unticking_everything_but_openid_leaves_only_openid(org, developer, login, web_client) -> None:
    client, secret = web_client
    browser = login(developer)
    _, hidden, verifier = _consent(browser, client, "openid apps:read")
    answer = browser.post("/oauth/authorize/", {**hidden, "organization": org.slug, "allow": "chosen"})
    assert _exchange(client, secret, answer, verifier)["scope"] == "openid"


def test_unticking_every_scope_declines(org, developer, login, app, make_client) -> None:
    client, _ = make_client(app, grants=("authorization_code",), scopes=("apps:read", "keys:read"))
    browser = login(developer)
    _, hidden, _ = _consent(browser, client, "apps:read keys:read")
    answer = browser.post("/oauth/authorize/", {**hidden, "organization": org.slug, "allow": "chosen"})
    assert answer.status_code == 302
    assert parse_qs(urlsplit(answer["Location"]).query)["error"] == ["access_denied"]


def test_the_device_consent_page_lets_the_person_untick_a_scope(app, make_client, developer, org, login) -> None:
    client, _ = make_client(app, grants=(DEVICE_GRANT,), client_type="public",
                            scopes=("apps:read", "apps:write", "keys:read"))
    body = start(client, scope="apps:read apps:write")
    browser = login(developer)
    page = browser.post("/device", {"user_code": body["user_code"]})
    assert b'name="keep_scope" value="apps:write"' in page.content
    done = browser.post("/device", {"user_code": body["user_code"], "organization": org.slug, "allow": "chosen",
                                    "keep_scope": ["apps:read"]})
    assert done.status_code == 200 and b"Device connected" in done.content
    wait_an_interval(body["device_code"])
    tokens = poll(client, body["device_code"]).json()
    assert tokens["scope"] == "apps:read"
    refused = _api("/api/v1/applications", tokens["access_token"])
    assert refused.status_code == 200
    assert Client().post("/api/v1/applications", {"name": "x"}, content_type="application/json",
                         HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}").status_code == 403


def test_authorized_apps_shows_both_organizations_each_scope_and_its_last_use_and_revokes(
        org, other_app, developer, login, make_client, flush_usage) -> None:
    client, secret = make_client(other_app, grants=("authorization_code", "refresh_token"),
                                 scopes=("apps:read", "keys:read"), name="Globex dashboard")
    browser = login(developer)
    _, hidden, verifier = _consent(browser, client, "apps:read keys:read")
    answer = browser.post("/oauth/authorize/", {**hidden, "organization": org.slug, "allow": "Authorize"})
    tokens = _exchange(client, secret, answer, verifier)
    assert _api("/api/v1/applications", tokens["access_token"]).status_code == 200
    flush_usage()
    assert ScopeUsage.objects.get(oauth_client=client, user_id=developer.pk).scope == "apps:read"

    page = browser.get("/account/authorized-apps/")
    html = page.content.decode()
    row = html.split("Globex dashboard")[1].split("</tr>")[0]
    assert "Globex" in row and "Acme" in row  # the client's organization and the one the grant is for
    uses = row.split('class="plain-list scope-uses"')[1].split("</ul>")[0]
    assert f"used <time datetime=\"{timezone.now():%Y-%m-%d}" in uses.split("keys:read")[0]
    assert "not used in 90 days" in uses.split("keys:read")[1]

    browser.post(reverse("authorized-app-revoke", args=[client.pk]))
    assert _api("/api/v1/applications", tokens["access_token"]).status_code == 401
    assert browser.get("/account/authorized-apps/").context["authorized"] == []
