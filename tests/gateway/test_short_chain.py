"""``/gateway/`` takes the short middleware chain (``portal.apichain``): the page middleware (session, signing in,
messages, the account gates) step aside, with or without the client's session cookie forwarded by the gateway,
and the answer is the same."""

from __future__ import annotations

import pytest
from csp.utils import build_policy
from django.test import Client

from tests.gateway.conftest import basic

pytestmark = pytest.mark.django_db


def test_gateway_auth_skips_the_session_and_keeps_every_security_header(gateway_auth, admin_key) -> None:
    response = Client().get("/gateway/auth", **gateway_auth, HTTP_X_API_KEY=admin_key)

    assert response.status_code == 200 and response.content == b""
    assert not hasattr(response.wsgi_request, "session")
    assert not hasattr(response.wsgi_request, "user")
    assert response["Content-Security-Policy"] == build_policy()
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert len(response["X-Request-Id"]) == 32
    assert "sessionid" not in response.cookies and "csrftoken" not in response.cookies


def test_a_forwarded_session_cookie_neither_slows_nor_changes_the_answer(gateway_auth, admin_key, owner,
                                                                        login) -> None:
    browser = login(owner)  # the client's browser is signed in; the gateway forwards its cookies

    allowed = browser.get("/gateway/auth", **gateway_auth, HTTP_X_API_KEY=admin_key)
    refused = browser.get("/gateway/auth", **gateway_auth)
    not_a_server = browser.get("/gateway/auth", HTTP_PORTAL_GATEWAY_AUTHORIZATION=basic("rs_unknown", "x"),
                               HTTP_X_API_KEY=admin_key)

    assert allowed.status_code == 200 and allowed["Portal-Organization"] == "acme"
    assert not hasattr(allowed.wsgi_request, "session")
    assert refused.status_code == 401 and refused["Portal-Status"] == "401"  # the session is no credential here
    assert not_a_server.status_code == 403 and not_a_server.json()["code"] == "GATEWAY_REFUSED"
    assert "sessionid" not in allowed.cookies and "Cookie" not in allowed.get("Vary", "")
