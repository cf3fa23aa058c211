"""The API reference: ``GET /api/schema`` describes every endpoint as it really is, and ``GET /api/docs``
renders it with nothing fetched from outside the portal."""

from __future__ import annotations

import io
import re
from typing import Any
from urllib.parse import urlparse

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.test import Client
from django.urls import resolve
from drf_spectacular.validation import validate_schema

from portal import scopes as scope_registry
from portal.api.errors import ERROR_CODES
from portal.api.permissions import required_scopes
from portal.api.urls import v1

BODY_METHODS = {"post", "patch", "put"}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    response = Client().get("/api/schema?format=json")
    assert response.status_code == 200
    return response.json()


def operations() -> list[tuple[str, str, type]]:
    """``(OpenAPI path, method, view class)`` for every method of every path of ``portal/api/urls.py``."""
    found = []
    for pattern in v1:
        path = "/api/v1/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", str(pattern.pattern))
        view = pattern.callback.view_class
        found += [(path, method, view) for method in ("get", "post", "patch", "put", "delete") if hasattr(view, method)]
    return found


OPERATIONS = operations()


def test_schema_is_a_valid_openapi_3_document(document):
    assert document["openapi"].startswith("3.")
    assert document["info"]["title"] == "Developer Portal API"
    assert document["servers"] == [{"url": settings.PORTAL_BASE_URL}]
    validate_schema(document)  # drf-spectacular's copy of the OpenAPI 3.0 JSON Schema; raises when invalid


def test_schema_generates_without_a_single_warning():
    call_command("spectacular", "--fail-on-warn", "--validate", stdout=io.StringIO())


def test_schema_needs_no_credential_and_ignores_a_bad_one():
    assert Client().get("/api/schema", HTTP_X_API_KEY="dp_live_wrong").status_code == 200
    assert Client().get("/api/schema", HTTP_AUTHORIZATION="Bearer wrong").status_code == 200


def test_every_endpoint_appears_with_exactly_its_methods(document):
    expected: dict[str, set[str]] = {}
    for path, method, _view in OPERATIONS:
        expected.setdefault(path, set()).add(method)
    assert {path: set(methods) for path, methods in document["paths"].items()} == expected
    assert len(expected) == len(v1)


@pytest.mark.parametrize(("path", "method", "view"), OPERATIONS, ids=[f"{m} {p}" for p, m, _ in OPERATIONS])
def test_security_and_described_scopes_match_the_view(document, path, method, view):
    operation = document["paths"][path][method]
    if not view.authentication_classes:
        assert "security" not in operation
        assert "No credential needed." in operation["description"]
        return
    scopes = required_scopes(view, method.upper())
    assert operation["security"] == [{"ApiKeyAuth": []}, {"BearerAuth": []}, {"OAuth2": scopes}]
    for scope in scopes:
        assert f"`{scope}`" in operation["description"]
    if not scopes:
        assert "Any valid credential" in operation["description"]


@pytest.mark.parametrize(("path", "method", "view"), OPERATIONS, ids=[f"{m} {p}" for p, m, _ in OPERATIONS])
def test_every_error_the_operation_can_give_is_documented_in_the_envelope(document, path, method, view):
    operation = document["paths"][path][method]
    expected = {"429", "500", "503"}
    if view.authentication_classes:
        expected |= {"400", "401"}
    if required_scopes(view, method.upper()) or method in BODY_METHODS | {"delete"}:
        expected |= {"403"}
    if method in BODY_METHODS:
        expected |= {"400", "413", "415"}
        assert "requestBody" in operation
    if "{" in path:
        expected.add("404")
    errors = {status for status in operation["responses"] if status >= "400"}
    assert expected <= errors
    for status in errors:
        schema = operation["responses"][status]["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/Error"}
    assert operation["responses"]["429"]["headers"]["Retry-After"] == {"$ref": "#/components/headers/Retry-After"}


def test_error_component_is_the_envelope(document):
    error = document["components"]["schemas"]["Error"]
    assert set(error["required"]) == {"error", "code"}
    assert set(error["properties"]) == {"error", "code", "details", "requiredScopes"}
    assert document["components"]["schemas"]["ErrorCodeEnum"]["enum"] == ERROR_CODES
    assert error["properties"]["details"]["additionalProperties"] == {"type": "array", "items": {"type": "string"}}
    assert error["properties"]["requiredScopes"]["items"] == {"type": "string"}


def test_request_bodies_refuse_unknown_fields(document):
    bodies = [schema for name, schema in document["components"]["schemas"].items() if name.endswith("Request")]
    assert len(bodies) >= 8
    assert all(schema["additionalProperties"] is False for schema in bodies)


def test_query_parameters_are_documented(document):
    def names(path: str) -> set[str]:
        return {p["name"] for p in document["paths"][path]["get"].get("parameters", []) if p["in"] == "query"}

    assert names("/api/v1/hello") == {"name"}
    assert names("/api/v1/audit-events") == {"action", "since", "cursor", "limit"}
    for path in ("/api/v1/applications", "/api/v1/api-keys", "/api/v1/members", "/api/v1/oauth-clients"):
        assert names(path) == {"cursor", "limit"}


def test_the_three_security_schemes_point_at_the_real_endpoints(document):
    schemes = document["components"]["securitySchemes"]
    assert set(schemes) == {"ApiKeyAuth", "BearerAuth", "OAuth2"}
    assert schemes["ApiKeyAuth"] | {"description": ""} == {
        "type": "apiKey", "in": "header", "name": "X-API-Key", "description": ""}
    assert (schemes["BearerAuth"]["type"], schemes["BearerAuth"]["scheme"]) == ("http", "bearer")
    flows = schemes["OAuth2"]["flows"]
    assert set(flows) == {"authorizationCode", "clientCredentials"}
    base = settings.PORTAL_BASE_URL
    assert flows["authorizationCode"]["authorizationUrl"] == f"{base}/oauth/authorize/"
    assert flows["authorizationCode"]["tokenUrl"] == f"{base}/oauth/token/"
    assert flows["authorizationCode"]["refreshUrl"] == f"{base}/oauth/token/"
    assert flows["clientCredentials"]["tokenUrl"] == f"{base}/oauth/token/"
    for flow in flows.values():
        assert flow["scopes"] == scope_registry.registry()
        for url in (flow.get("authorizationUrl"), flow["tokenUrl"]):
            if url:
                assert resolve(urlparse(url).path).url_name in {"authorize", "token"}


def test_a_sites_own_scopes_join_the_document(settings):
    settings.PORTAL = {**settings.PORTAL, "SCOPES": {"orders:read": "Read orders"}}
    document = Client().get("/api/schema?format=json").json()
    assert "orders:read" in document["components"]["securitySchemes"]["OAuth2"]["flows"]["clientCredentials"]["scopes"]
    assert "orders:read" in document["components"]["schemas"]["ScopeName"]["enum"]


def test_docs_page_loads_every_asset_from_the_portal_itself():
    response = Client().get("/api/docs")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert len(assets) >= 3  # stylesheet, Swagger UI bundle, standalone preset
    assert all(url.startswith("/static/") for url in assets), assets
    assert not re.findall(r"https?://", html), "the page names an outside URL"
    assert "/api/schema" in html
    for url in assets:
        assert finders.find(url.removeprefix(settings.STATIC_URL)), f"{url} is not a static file of the portal"
