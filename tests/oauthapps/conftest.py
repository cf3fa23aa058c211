"""Helpers for the OAuth tests: PKCE pairs, the consent form, the token endpoint."""

from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

REDIRECT_URI = "https://client.example.com/callback"


def pkce_pair() -> tuple[str, str]:
    """``(verifier, S256 challenge)`` as RFC 7636 computes them."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def query_of(location: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}


def authorize_params(client, *, scope="apps:read", challenge=None, **overrides) -> dict[str, str]:
    params = {
        "response_type": "code",
        "client_id": client.client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": scope,
        "state": "xyz",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    params.update(overrides)
    return {name: value for name, value in params.items() if value is not None}


def form_post(path: str, data: dict, **headers):
    """A POST of ``application/x-www-form-urlencoded`` data, as OAuth clients send it (RFC 6749 appendix B)."""
    from django.test import Client

    return Client().post(path, urlencode(data), content_type="application/x-www-form-urlencoded", **headers)


@pytest.fixture
def consent():
    """``consent(browser, client, scope=..., organization=slug, allow=True, **params) -> Response`` of the POST.

    Opens the consent page as the signed-in Django test ``Client`` would, then answers it.
    """

    def _consent(browser, client, *, organization, allow=True, **params):
        query = authorize_params(client, **params)
        page = browser.get("/oauth/authorize/?" + urlencode(query))
        assert page.status_code == 200, page.content
        form = {**query, "organization": organization}
        if allow:
            form["allow"] = "Authorize"
        return browser.post("/oauth/authorize/", form)

    return _consent


@pytest.fixture
def authorize_code(consent):
    """``authorize_code(browser, client, organization, scope=...) -> (code, verifier)`` through the consent form."""

    def _authorize(browser, client, organization, scope="apps:read"):
        verifier, challenge = pkce_pair()
        response = consent(browser, client, organization=organization, scope=scope, challenge=challenge)
        assert response.status_code == 302, response.content
        query = query_of(response["Location"])
        assert "code" in query, response["Location"]
        return query["code"], verifier

    return _authorize


@pytest.fixture
def token_request():
    """``token_request(data, client=None, secret=None) -> Response`` from ``/oauth/token/`` (Basic auth when a
    secret is given)."""
    from django.test import Client

    def _post(data, client=None, secret=None):
        headers = {}
        if client is not None and secret is not None:
            basic = base64.b64encode(f"{client.client_id}:{secret}".encode()).decode()
            headers["HTTP_AUTHORIZATION"] = f"Basic {basic}"
        elif client is not None:
            data = {"client_id": client.client_id, **data}
        return Client().post("/oauth/token/", data, **headers)

    return _post


@pytest.fixture
def code_tokens(authorize_code, token_request):
    """``code_tokens(browser, client, secret, organization, scope=...) -> token response JSON`` (a full
    authorization-code flow)."""

    def _tokens(browser, client, secret, organization, scope="apps:read"):
        code, verifier = authorize_code(browser, client, organization, scope=scope)
        response = token_request({"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI,
                                  "code_verifier": verifier}, client, secret)
        assert response.status_code == 200, response.content
        return response.json()

    return _tokens
