"""A NUL character (0x00) anywhere the portal takes text is refused before any query.

PostgreSQL cannot hold NUL in text, so there such input used to end in ``DataError`` (a 500); SQLite takes it.
These tests run on both legs of CI and assert the refusal on both.
"""

from __future__ import annotations

import base64
from urllib.parse import urlencode

import pytest
from django.test import Client
from oauth2_provider.models import AccessToken, Grant, RefreshToken

from applications.models import Application
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db

NUL = "\x00"


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


@pytest.fixture
def service(app, make_client):
    """A confidential client-credentials client: ``(client, secret)``."""
    return make_client(app, grants=("client_credentials", "authorization_code", "refresh_token"))


def oauth_refusal(response, status: int, error: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert body["error"] == error and "NUL" in body["error_description"]
    if status == 401:
        assert response["WWW-Authenticate"].startswith("Basic")
    return body


def nothing_issued() -> bool:
    return not AccessToken.objects.exists() and not RefreshToken.objects.exists() and not Grant.objects.exists()


# OAuth endpoints ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["urlencoded", "multipart"])
@pytest.mark.parametrize(("field", "error", "status"), [
    ("client_id", "invalid_client", 401),
    ("client_secret", "invalid_client", 401),
    ("scope", "invalid_request", 400),
])
def test_token_endpoint_refuses_nul_in_the_form(service, field, error, status, encoding):
    client, secret = service
    form = {"grant_type": "client_credentials", "client_id": client.client_id, "client_secret": secret,
            "scope": "apps:read"}
    form[field] = form[field][:4] + NUL + form[field][4:]
    if encoding == "urlencoded":
        response = Client().post("/oauth/token/", urlencode(form), content_type="application/x-www-form-urlencoded")
    else:
        response = Client().post("/oauth/token/", form)

    oauth_refusal(response, status, error)
    assert nothing_issued()


@pytest.mark.parametrize(("grant", "field"), [("authorization_code", "code"), ("refresh_token", "refresh_token")])
def test_token_endpoint_refuses_nul_in_a_code_or_refresh_token(service, grant, field):
    client, secret = service
    form = {"grant_type": grant, field: f"abc{NUL}def", "redirect_uri": "https://client.example.com/callback",
            "code_verifier": "v" * 50}

    response = Client().post("/oauth/token/", form, HTTP_AUTHORIZATION=basic(client.client_id, secret))

    oauth_refusal(response, 400, "invalid_request")
    assert nothing_issued()


@pytest.mark.parametrize("client_id", [f"abc{NUL}", "abc%00"], ids=["raw", "form-encoded"])
def test_token_endpoint_refuses_nul_in_basic_credentials_as_invalid_client(service, client_id):
    _client, secret = service

    response = Client().post("/oauth/token/", {"grant_type": "client_credentials"},
                             HTTP_AUTHORIZATION=basic(client_id, secret))

    oauth_refusal(response, 401, "invalid_client")
    assert nothing_issued()


def test_token_endpoint_refuses_nul_in_another_header_or_a_field_name(service):
    client, secret = service
    form = {"grant_type": "client_credentials", "client_id": client.client_id, "client_secret": secret}

    oauth_refusal(Client().post("/oauth/token/", form, HTTP_USER_AGENT=f"curl{NUL}"), 400, "invalid_request")
    oauth_refusal(Client().post("/oauth/token/", {**form, f"x{NUL}": "1"}), 400, "invalid_request")
    oauth_refusal(Client().post(f"/oauth/token/?client_id=a{NUL}", form), 401, "invalid_client")
    assert nothing_issued()


@pytest.mark.parametrize("path", ["/oauth/revoke/", "/oauth/introspect/"])
def test_revocation_and_introspection_refuse_nul(service, path):
    client, secret = service

    oauth_refusal(Client().post(path, {"token": f"tok{NUL}en"}, HTTP_AUTHORIZATION=basic(client.client_id, secret)),
                  400, "invalid_request")
    oauth_refusal(Client().post(path, {"token": "token", "client_id": f"{NUL}", "client_secret": secret}),
                  401, "invalid_client")
    oauth_refusal(Client().post(path, {"token": "token"}, HTTP_AUTHORIZATION=basic(f"{client.client_id}{NUL}", secret)),
                  401, "invalid_client")


@pytest.mark.parametrize("field", ["client_id", "redirect_uri", "state", "scope", "code_challenge"])
@pytest.mark.parametrize("signed_in", [True, False])
def test_authorize_shows_an_error_page_for_nul_and_never_redirects(service, login, developer, field, signed_in):
    client, _ = service
    params = {"response_type": "code", "client_id": client.client_id,
              "redirect_uri": "https://client.example.com/callback", "scope": "apps:read", "state": "s",
              "code_challenge": "c" * 43, "code_challenge_method": "S256"}
    params[field] += NUL
    browser = login(developer) if signed_in else Client()

    response = browser.get("/oauth/authorize/", params)

    assert response.status_code == 400 and not response.has_header("Location")
    assert response["Content-Type"].startswith("text/html")
    assert b"NUL character" in response.content
    post = browser.post("/oauth/authorize/", {**params, "allow": "Authorize", "organization": "acme"})
    assert post.status_code == 400 and not post.has_header("Location")
    assert nothing_issued()


# The API: query strings, headers and paths (JSON bodies: tests/portal/test_api_input.py) ----------------------


def api_refusal(response, field: str) -> dict:
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "VALIDATION_ERROR" and list(body["details"]) == [field]
    assert "NUL" in body["details"][field][0]
    return body


@pytest.mark.parametrize("query", [{"action": f"api_key.created{NUL}"}, {"since": NUL}, {f"a{NUL}": "1"},
                                   {"page": f"1{NUL}"}])
def test_api_query_strings_with_nul_are_a_400(client_a, query):
    api_refusal(client_a.get("/api/v1/audit-events", query), "query")


@pytest.mark.parametrize("header", ["HTTP_USER_AGENT", "HTTP_X_ORGANIZATION", "HTTP_X_REQUEST_ID", "HTTP_COOKIE"])
def test_api_headers_with_nul_are_a_400_and_nothing_is_written(client_a, header):
    before = AuditEvent.objects.count()

    body = api_refusal(client_a.post("/api/v1/applications", {"name": "x"}, format="json", **{header: f"a{NUL}b"}),
                       "headers")

    assert "header" in body["details"]["headers"][0]
    assert not Application.objects.filter(name="x").exists() and AuditEvent.objects.count() == before


@pytest.mark.parametrize("credential", [{"HTTP_X_API_KEY": f"dp_live_{NUL}"}, {"HTTP_AUTHORIZATION": f"Bearer {NUL}"}])
def test_api_credentials_with_nul_are_a_400(api_client, credential):
    api_refusal(api_client().get("/api/v1/me", **credential), "headers")


def test_a_session_call_naming_an_organization_with_nul_is_a_400(login, owner):
    api_refusal(login(owner).get("/api/v1/applications", HTTP_X_ORGANIZATION=f"acme{NUL}"), "headers")


@pytest.mark.parametrize("path", [f"/api/v1/api-keys/abc{NUL}def", f"/api/v1/api-keys/abc{NUL}/rotate",
                                  f"/api/v1/nothing{NUL}"])
def test_an_api_path_with_nul_names_nothing(client_a, path):
    response = client_a.get(path)

    assert response.status_code == 404 and response.json()["code"] == "NOT_FOUND"


# Dashboard pages and forms -----------------------------------------------------------------------------------


def bad_request_page(response) -> None:
    assert response.status_code == 400, response.content
    assert response["Content-Type"].startswith("text/html")
    assert b"NUL character" in response.content


def test_sign_in_form_with_nul_is_a_400_page():
    bad_request_page(Client().post("/accounts/login/", {"username": f"a{NUL}@example.com", "password": "x"}))
    assert not AuditEvent.objects.exists()


def test_dashboard_form_with_nul_is_a_400_page_and_stores_nothing(login, owner, org):
    response = login(owner).post(f"/orgs/{org.slug}/apps/", {"name": f"Billing{NUL}", "description": ""})

    bad_request_page(response)
    assert not Application.objects.filter(organization=org).exists()


def test_dashboard_query_string_and_cookie_with_nul_are_a_400_page(login, owner, org):
    browser = login(owner)

    bad_request_page(browser.get(f"/orgs/{org.slug}/audit/", {"action": NUL}))
    bad_request_page(browser.get("/dashboard/", HTTP_COOKIE=f"sessionid=abc{NUL}"))
    bad_request_page(Client().get("/accounts/login/", {"next": f"/dashboard/{NUL}"}))


def test_a_page_path_with_nul_is_a_404(login, owner, org):
    assert login(owner).get(f"/orgs/{org.slug}/keys/abc{NUL}/revoke/").status_code == 404


def test_admin_forms_with_nul_are_a_400_page(staff_client):
    bad_request_page(staff_client.get("/admin/apikeys/apikey/", {"q": f"dp_live_{NUL}"}))
    bad_request_page(staff_client.post("/admin/apikeys/application/add/", {"name": f"x{NUL}"}))
