"""Every row of the contract's error table, on a real endpoint, in the one envelope."""

from __future__ import annotations

import pytest
from django.urls import path

from portal.api.base import PortalAPIView

pytestmark = pytest.mark.django_db


def envelope(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == code and isinstance(body["error"], str) and body["error"]
    return body


def test_400_validation_error_maps_fields(client_a):
    body = envelope(client_a.post("/api/v1/applications", {"name": ""}, format="json"), 400, "VALIDATION_ERROR")
    assert "name" in body["details"]


def test_400_for_malformed_json(client_a):
    response = client_a.post("/api/v1/applications", data="{not json", content_type="application/json")
    body = envelope(response, 400, "VALIDATION_ERROR")
    assert "body" in body["details"]


def test_400_for_a_json_body_that_is_not_an_object(client_a):
    body = envelope(client_a.post("/api/v1/applications", [1, 2], format="json"), 400, "VALIDATION_ERROR")
    assert body["details"] == {"body": ["Send a JSON object."]}


def test_401_auth_failed(api_client):
    response = api_client("dp_live_nope").get("/api/v1/me")
    assert envelope(response, 401, "AUTH_FAILED") == {"error": "Authentication failed", "code": "AUTH_FAILED"}
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_403_insufficient_scope_lists_what_is_missing(api_client, app, make_key):
    _, key = make_key(app, "READ_ONLY")
    body = envelope(api_client(key).post("/api/v1/applications", {"name": "x"}, format="json"), 403,
                    "INSUFFICIENT_SCOPE")
    assert body["requiredScopes"] == ["apps:write"]


def test_403_insufficient_scope_when_making_a_key_stronger_than_the_caller(api_client, app, make_key):
    _, key = make_key(app, scopes=["keys:write", "apps:read"], preset=None)
    payload = {"name": "k", "applicationId": app.pk, "scopes": ["apps:read", "apps:write", "admin"]}
    response = api_client(key).post("/api/v1/api-keys", payload, format="json")
    body = envelope(response, 403, "INSUFFICIENT_SCOPE")
    assert body["requiredScopes"] == ["apps:write", "admin"]


def test_403_forbidden_for_a_role_through_the_session(login, viewer, org):
    client = login(viewer)
    response = client.post("/api/v1/applications", {"name": "x"}, content_type="application/json",
                           HTTP_X_CSRFTOKEN="x")
    # Django's test client does not enforce CSRF; the role check answers.
    envelope(response, 403, "FORBIDDEN")


def test_404_unknown_id_and_unknown_path_and_trailing_slash(client_a):
    envelope(client_a.get("/api/v1/applications/999999"), 404, "NOT_FOUND")
    envelope(client_a.get("/api/v1/nothing-here"), 404, "NOT_FOUND")
    envelope(client_a.get("/api/v1/hello/"), 404, "NOT_FOUND")
    envelope(client_a.get("/api/v2/hello"), 404, "NOT_FOUND")


def test_405_method_not_allowed(client_a):
    envelope(client_a.put("/api/v1/hello", {}, format="json"), 405, "METHOD_NOT_ALLOWED")


def test_413_payload_too_large(client_a):
    response = client_a.post("/api/v1/applications", data="x" * (1024 * 1024 + 1), content_type="application/json")
    envelope(response, 413, "PAYLOAD_TOO_LARGE")


def test_415_unsupported_media_type(client_a):
    response = client_a.post("/api/v1/applications", data="name=x", content_type="application/x-www-form-urlencoded")
    envelope(response, 415, "UNSUPPORTED_MEDIA_TYPE")


class Boom(PortalAPIView):
    required_scopes: list[str] = []

    def get(self, request):
        raise RuntimeError("secret internals that must not leak")


class DatabaseDown(PortalAPIView):
    required_scopes: list[str] = []

    def get(self, request):
        from django.db import OperationalError

        raise OperationalError("connection refused")


urlpatterns = [
    path("api/v1/boom", Boom.as_view()),
    path("api/v1/db-down", DatabaseDown.as_view()),
]


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.urls("tests.portal.test_api_errors")
def test_500_is_json_without_a_traceback_even_in_debug(client_a, settings, debug):
    settings.DEBUG = debug
    response = client_a.get("/api/v1/boom")
    body = envelope(response, 500, "SERVER_ERROR")
    assert "secret internals" not in response.content.decode() and "Traceback" not in response.content.decode()
    assert set(body) == {"error", "code"}


@pytest.mark.urls("tests.portal.test_api_errors")
def test_503_when_the_database_is_unreachable(client_a):
    response = client_a.get("/api/v1/db-down")
    envelope(response, 503, "SERVICE_UNAVAILABLE")
    assert response["Retry-After"].isdigit()


def test_browser_accept_header_still_gets_json_errors(api_client):
    response = api_client().get("/api/v1/me", HTTP_ACCEPT="text/html")
    envelope(response, 401, "AUTH_FAILED")


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete", "options"])
def test_unknown_paths_are_a_json_404_to_every_method_even_in_a_signed_in_browser(login, owner, method):
    client = login(owner)
    client.handler.enforce_csrf_checks = True  # as a browser would send it, without a CSRF token
    response = getattr(client, method)("/api/v1/applications/null,null", data="a=b",
                                       content_type="application/x-www-form-urlencoded")
    assert envelope(response, 404, "NOT_FOUND") == {"error": "Not found", "code": "NOT_FOUND"}
    assert response["X-RateLimit-Limit"] == "100"


def test_a_host_header_that_is_not_allowed_is_a_json_400_on_an_api_path(client):
    """Django refuses the Host before any view runs (``DisallowedHost``); on an API path the answer is still the
    contract's envelope, never Django's HTML 400 page (found by tests/portal/test_fuzz.py)."""
    response = client.get("/api/v1/scopes", HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["code"] == "VALIDATION_ERROR"
    assert "request" in body["details"]


def test_a_host_header_that_is_not_allowed_is_still_the_400_page_on_a_page(client):
    response = client.get("/accounts/login/", HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
