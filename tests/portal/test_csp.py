"""The Content-Security-Policy (django-csp) on every page: framing and scripts by policy, not only by header."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.test import Client

from tests.oauthapps.conftest import authorize_params, pkce_pair

pytestmark = pytest.mark.django_db

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def directives(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    parsed = {}
    for directive in filter(None, (part.strip() for part in policy.split(";"))):
        name, *sources = directive.split()
        parsed[name] = sources
    return parsed


def assert_strict_policy(response) -> dict[str, list[str]]:
    policy = directives(response)
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    assert policy["default-src"] == ["'self'"]
    assert "'self'" in policy["form-action"]
    assert not any("unsafe" in source for sources in policy.values() for source in sources)
    assert response["X-Frame-Options"] == "DENY"
    return policy


@pytest.mark.parametrize("path", ["/accounts/login/", "/accounts/signup/", "/api/docs", "/no-such-page/"])
def test_public_pages_send_the_policy(client, path):
    response = client.get(path)
    assert response["Content-Type"].startswith("text/html")
    policy = assert_strict_policy(response)
    assert policy["form-action"] == ["'self'"]


def test_only_the_api_docs_allow_data_images(client):
    assert directives(client.get("/api/docs"))["img-src"] == ["'self'", "data:"]
    assert directives(client.get("/accounts/login/"))["img-src"] == ["'self'"]


def test_dashboard_pages_send_the_policy(login, owner, org, app):
    browser = login(owner)
    for path in ["/dashboard/", f"/orgs/{org.slug}/", f"/orgs/{org.slug}/apps/{app.pk}/"]:
        response = browser.get(path, follow=True)
        assert response.status_code == 200, path
        assert_strict_policy(response)


def test_admin_pages_send_the_policy(staff_client, client):
    for response in [client.get("/admin/login/"), staff_client.get("/admin/"),
                     staff_client.get("/admin/oauthapps/oauthclient/add/")]:
        assert response.status_code == 200
        assert_strict_policy(response)


def test_consent_page_lets_its_form_redirect_to_the_clients_redirect_uris_only(app, make_client, login, developer):
    client, _secret = make_client(app, grants=("authorization_code",), scopes=("apps:read",), redirect_uris=[
        "https://client.example.com/callback", "http://127.0.0.1:8765/callback", "http://[::1]:9000/cb"])
    _verifier, challenge = pkce_pair()
    query = authorize_params(client, challenge=challenge)
    response = login(developer).get("/oauth/authorize/?" + urlencode(query))
    assert response.status_code == 200
    policy = assert_strict_policy(response)
    # DOT accepts a loopback IP redirect on any port (RFC 8252 7.3), so the policy does too.
    assert policy["form-action"] == ["'self'", "https://client.example.com", "http://127.0.0.1:*",
                                     "http://[::1]:*"]


def test_consent_error_page_allows_no_redirect(app, make_client, login, developer):
    client, _secret = make_client(app, grants=("authorization_code",), scopes=("apps:read",))
    query = authorize_params(client, challenge=pkce_pair()[1], redirect_uri="https://evil.example.com/callback")
    response = login(developer).get("/oauth/authorize/?" + urlencode(query))
    assert response.status_code == 400
    assert assert_strict_policy(response)["form-action"] == ["'self'"]


def test_api_responses_carry_the_policy_too():
    response = Client().get("/api/v1/scopes")
    assert response.status_code == 200
    assert directives(response)["frame-ancestors"] == ["'none'"]


@pytest.mark.parametrize("template", sorted(TEMPLATES.rglob("*.html")),
                         ids=lambda path: str(path.relative_to(TEMPLATES)))
def test_no_template_has_an_inline_script_or_style(template):
    html = template.read_text()
    assert not re.search(r"<script(?![^>]*\b(?:src=|type=\"application/json\"))[^>]*>", html), "inline <script>"
    assert not re.search(r"<style\b", html), "<style> block"
    assert not re.search(r"\sstyle=", html), "style attribute"
    assert not re.search(r"\son[a-z]+=", html), "event handler attribute"
    assert "javascript:" not in html
