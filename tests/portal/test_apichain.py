"""The short middleware chain of API requests without a session (``portal.apichain``): what they skip, what they
keep, and that the session-authenticated browsable API still goes through the whole chain."""

from __future__ import annotations

import pytest
from csp.utils import build_policy
from django.test import Client, override_settings

pytestmark = pytest.mark.django_db


def test_a_key_request_skips_the_session_and_keeps_every_security_header(app, make_key, api_client) -> None:
    _key, plaintext = make_key(app, "READ_ONLY")

    response = api_client(plaintext).get("/api/v1/hello?name=Test")

    assert response.status_code == 200 and response.json() == {"message": "Hello Test!"}
    assert not hasattr(response.wsgi_request, "session")
    assert response["Content-Security-Policy"] == build_policy()
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert len(response["X-Request-Id"]) == 32
    assert "sessionid" not in response.cookies and "csrftoken" not in response.cookies


def test_a_key_sent_from_a_signed_in_browser_is_the_key_not_the_session(owner, app, make_key, login) -> None:
    _key, plaintext = make_key(app, "READ_ONLY")
    browser = login(owner)

    me = browser.get("/api/v1/me", HTTP_X_API_KEY=plaintext)
    bearer = browser.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {plaintext}")

    assert me.status_code == 200 and me.json()["authType"] == "api_key"
    assert bearer.status_code == 200 and bearer.json()["authType"] == "api_key"
    assert not hasattr(me.wsgi_request, "session")


def test_a_bad_credential_header_is_refused_even_with_a_session(owner, login) -> None:
    browser = login(owner)

    for headers in ({"HTTP_X_API_KEY": "dp_test_nonsense"}, {"HTTP_AUTHORIZATION": "Basic dXNlcjpwYXNz"}):
        response = browser.get("/api/v1/me", **headers)
        assert response.status_code == 401, headers
        assert response.json()["code"] == "AUTH_FAILED"


def test_the_session_still_authenticates_the_api_with_its_csrf_check(owner, org) -> None:
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(owner)

    me = browser.get("/api/v1/me")
    assert me.status_code == 200 and me.json()["authType"] == "session"
    assert hasattr(me.wsgi_request, "session")

    refused = browser.post("/api/v1/applications", {"name": "No token"}, content_type="application/json")
    assert refused.status_code == 403

    browser.get("/dashboard/")  # a page sets the CSRF cookie, as the browsable API's forms use it
    token = browser.cookies["csrftoken"].value
    made = browser.post("/api/v1/applications", {"name": "With token"}, content_type="application/json",
                        HTTP_X_CSRFTOKEN=token, HTTP_X_ORGANIZATION=org.slug)
    assert made.status_code == 201, made.content


def test_without_any_credential_the_api_answers_as_before(client) -> None:
    scopes = client.get("/api/v1/scopes")
    refused = client.get("/api/v1/me")

    assert scopes.status_code == 200 and not hasattr(scopes.wsgi_request, "session")
    assert refused.status_code == 401 and refused["WWW-Authenticate"].startswith("Bearer")
    assert refused.json() == {"error": "Authentication failed", "code": "AUTH_FAILED"}


def test_pages_keep_the_whole_chain(client, owner, login) -> None:
    page = login(owner).get("/dashboard/", follow=True)
    assert page.status_code == 200 and hasattr(page.wsgi_request, "session")
    assert page.wsgi_request.user == owner


def test_the_policy_built_once_follows_the_settings(client) -> None:
    original = client.get("/accounts/login/")["Content-Security-Policy"]
    assert original == build_policy()
    changed = {"DIRECTIVES": {"default-src": ["'self'"], "frame-ancestors": ["'none'"]}}
    with override_settings(CONTENT_SECURITY_POLICY=changed):
        policy = client.get("/accounts/login/")["Content-Security-Policy"]
        assert policy != original
        assert sorted(policy.split("; ")) == ["default-src 'self'", "frame-ancestors 'none'"]
        assert "Content-Security-Policy-Report-Only" not in client.get("/api/v1/scopes")
    with override_settings(CONTENT_SECURITY_POLICY_REPORT_ONLY={"DIRECTIVES": {"default-src": ["'none'"]}}):
        assert client.get("/api/v1/scopes")["Content-Security-Policy-Report-Only"] == "default-src 'none'"
    assert client.get("/accounts/login/")["Content-Security-Policy"] == original
