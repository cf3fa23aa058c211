"""Debian's nginx, configured as the README says, in front of an upstream that is not Django, asking the portal
(a live server) about every call: what reaches the upstream, and what a refused client gets."""

from __future__ import annotations

import pytest
import requests

from apikeys.services import api_key_revoke
from portal.callers import Caller
from tests.gateway.realparts import (
    basic_value,
    echo_upstream,
    free_port,
    render_config,
    require_nginx,
    running_nginx,
)
from usage.models import RequestLog

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def nginx(live_server, server, tmp_path):
    """Base URL of nginx in front of the echo upstream, asking ``live_server`` as resource server ``server``."""
    require_nginx()
    resource_server, secret = server
    port = free_port()
    with echo_upstream() as upstream:
        config = render_config(listen_port=port, portal=f"127.0.0.1:{live_server.thread.port}", upstream=upstream,
                               basic=basic_value(resource_server.client_id, secret), prefix=tmp_path)
        with running_nginx(config, tmp_path, port) as base:
            yield base


def get(url: str, **headers) -> requests.Response:
    return requests.get(url, headers=headers, timeout=30)


def test_an_allowed_key_reaches_the_upstream_with_the_identity_and_without_its_secret(nginx, app, make_key,
                                                                                       flush_usage):
    key, plaintext = make_key(app, None, scopes=["orders:read"])
    response = get(f"{nginx}/orders/7?expand=lines", **{"X-API-Key": plaintext})
    assert response.status_code == 200, response.text
    echoed = response.json()
    assert echoed["path"] == "/orders/7?expand=lines"
    headers = echoed["headers"]
    assert headers["portal-organization"] == "acme"
    assert headers["portal-credential"] == f"api_key:{key.public_id}"
    assert headers["portal-scopes"] == "orders:read"
    assert "portal-subject" not in headers
    assert "x-api-key" not in headers and "authorization" not in headers
    assert plaintext not in response.text
    assert response.headers["X-RateLimit-Limit"] == "100"
    assert response.headers["X-RateLimit-Remaining"] == "99"
    flush_usage()
    entry = RequestLog.objects.get()  # one portal call for one request
    assert (entry.method, entry.path, entry.resource_server, entry.ip_address) == (
        "GET", "/orders/7", "orders-api", "127.0.0.1")


def test_an_allowed_token_reaches_the_upstream_with_its_client_and_person(nginx, app, developer, org):
    from tests.gateway.test_introspection import person_token

    token, client = person_token(app, developer, org, "orders:read")
    response = get(f"{nginx}/orders", Authorization=f"Bearer {token}")
    assert response.status_code == 200, response.text
    headers = response.json()["headers"]
    assert headers["portal-credential"] == f"oauth2:{client.client_id}"
    assert headers["portal-subject"] == str(developer.pk)
    assert "authorization" not in headers
    assert token not in response.text


def test_a_revoked_key_gets_the_apis_401_with_its_body(nginx, app, make_key):
    key, plaintext = make_key(app, "ADMIN")
    api_key_revoke(caller=Caller.system(app.organization), key=key, reason="test")
    response = get(f"{nginx}/orders", **{"X-API-Key": plaintext})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="api"'
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == {"error": "Authentication failed", "code": "AUTH_FAILED"}


def test_a_missing_scope_gets_insufficient_scope(nginx, app, make_key):
    _, plaintext = make_key(app, None, scopes=["orders:read"])
    response = requests.post(f"{nginx}/orders", json={"sku": "x"}, headers={"X-API-Key": plaintext}, timeout=30)
    assert response.status_code == 403
    assert response.json() == {"error": "The credential lacks a scope this request needs.",
                               "code": "INSUFFICIENT_SCOPE", "requiredScopes": ["orders:write"]}
    assert "WWW-Authenticate" not in response.headers


def test_a_rate_limit_gets_429_with_retry_after(nginx, app, make_key):
    _, plaintext = make_key(app, "ADMIN", rate_limit_per_minute=2)
    answers = [get(f"{nginx}/orders", **{"X-API-Key": plaintext}) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    limited = answers[-1]
    assert limited.json()["code"] == "RATE_LIMITED"
    assert int(limited.headers["Retry-After"]) >= 1
    assert limited.headers["X-RateLimit-Remaining"] == "0"


def test_identity_headers_a_client_forged_are_dropped(nginx, app, make_key):
    _, plaintext = make_key(app, None, scopes=["orders:read"])
    forged = {"Portal-Organization": "globex", "Portal-Subject": "1", "Portal-Credential": "api_key:forged",
              "Portal-Scopes": "admin", "Portal-Status": "200", "Portal-Required-Scopes": "",
              "Portal-Gateway-Authorization": "Basic Zm9vOmJhcg==", "X-Forwarded-Method": "GET"}
    response = get(f"{nginx}/orders", **{"X-API-Key": plaintext, **forged})
    assert response.status_code == 200, response.text
    headers = response.json()["headers"]
    assert headers["portal-organization"] == "acme"
    assert headers["portal-scopes"] == "orders:read"
    assert "portal-subject" not in headers
    assert "portal-gateway-authorization" not in headers and "portal-status" not in headers
    # Without a credential the forged headers get nothing through.
    refused = get(f"{nginx}/orders", **forged)
    assert refused.status_code == 401


def test_a_forged_forwarded_method_does_not_lower_the_scope_needed(nginx, app, make_key):
    _, plaintext = make_key(app, None, scopes=["orders:read"])
    response = requests.delete(f"{nginx}/orders/7", headers={"X-API-Key": plaintext, "X-Forwarded-Method": "GET",
                                                             "X-Original-Method": "GET"}, timeout=30)
    assert response.status_code == 403


def test_the_readme_shows_the_tested_nginx_configuration():
    """The configuration these tests run is the one the README gives, word for word."""
    from pathlib import Path

    from tests.gateway.realparts import CONFIG_TEMPLATE

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert CONFIG_TEMPLATE.read_text() in readme
