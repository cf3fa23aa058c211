"""``/gateway/auth``: the API's decision for a call that reached another service (section 18)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.organizations.services import organization_suspend
from apikeys.services import api_key_revoke
from gateway.services import resource_server_disable
from portal.callers import Caller
from tests.gateway.conftest import basic
from usage.models import RequestLog, UsageCount

pytestmark = pytest.mark.django_db

URL = "/gateway/auth"


def ask(headers: dict, *, method: str = "get", **extra) -> object:
    return getattr(Client(), method)(URL, **headers, **extra)


def error_body(response) -> dict:
    body = json.loads(response["Portal-Error-Body"])
    assert "\n" not in response["Portal-Error-Body"]
    return body


def test_an_allowed_key_gets_200_with_the_identity_headers(gateway_auth, app, make_key, org):
    key, plaintext = make_key(app, None, scopes=["orders:read", "keys:read"])
    response = ask({**gateway_auth, "HTTP_X_API_KEY": plaintext, "HTTP_X_FORWARDED_METHOD": "GET",
                    "HTTP_X_FORWARDED_URI": "/orders/7?expand=lines"})
    assert response.status_code == 200
    assert response.content == b""
    assert response["Portal-Organization"] == "acme"
    assert response["Portal-Credential"] == f"api_key:{key.public_id}"
    assert response["Portal-Scopes"] == "orders:read"  # keys:read is not a scope this server serves
    assert "Portal-Subject" not in response
    assert response["X-RateLimit-Limit"] == "100"
    assert response["X-RateLimit-Remaining"] == "99"
    assert response["X-RateLimit-Reset"].endswith("Z")
    assert len(response["X-Request-Id"]) == 32


def test_an_admin_key_gets_every_scope_the_server_serves(gateway_auth, admin_key):
    response = ask({**gateway_auth, "HTTP_AUTHORIZATION": f"Bearer {admin_key}"})
    assert response.status_code == 200
    assert response["Portal-Scopes"] == "apps:read orders:read orders:write"


@pytest.mark.parametrize("headers", [
    {},
    {"HTTP_X_API_KEY": "dp_live_not-a-key"},
    {"HTTP_AUTHORIZATION": "Bearer unknown-token"},
    {"HTTP_AUTHORIZATION": "Basic Zm9vOmJhcg=="},
])
def test_a_missing_malformed_or_unknown_credential_is_the_apis_401(gateway_auth, headers):
    response = ask({**gateway_auth, **headers})
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.json() == {"error": "Authentication failed", "code": "AUTH_FAILED"}
    assert response["Portal-Status"] == "401"
    assert error_body(response) == response.json()


def test_refused_the_same_as_the_portals_own_api(gateway_auth, app, make_key):
    key, plaintext = make_key(app, "READ_ONLY")
    api_key_revoke(caller=Caller.system(app.organization), key=key, reason="test")
    through_gateway = ask({**gateway_auth, "HTTP_X_API_KEY": plaintext})
    direct = APIClient().get("/api/v1/hello", HTTP_X_API_KEY=plaintext)
    assert through_gateway.status_code == direct.status_code == 401
    assert through_gateway.json() == direct.json()
    assert through_gateway["WWW-Authenticate"] == direct["WWW-Authenticate"]


def test_expired_key_suspended_organization_and_ip_ranges_are_refused(gateway_auth, app, make_key, org):
    _, ranged = make_key(app, "ADMIN", allowed_ips=["198.51.100.0/24"])
    inside = ask({**gateway_auth, "HTTP_X_API_KEY": ranged, "HTTP_X_FORWARDED_FOR": "10.0.0.1, 198.51.100.7"})
    assert inside.status_code == 200
    # Only the last entry counts: the one the gateway added. An entry the client wrote is not believed.
    outside = ask({**gateway_auth, "HTTP_X_API_KEY": ranged, "HTTP_X_FORWARDED_FOR": "198.51.100.7, 10.0.0.1"})
    assert outside.status_code == 401
    expired, expired_plain = make_key(app, "ADMIN")
    type(expired).objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert ask({**gateway_auth, "HTTP_X_API_KEY": expired_plain}).status_code == 401
    _, plaintext = make_key(app, "ADMIN")
    organization_suspend(caller=Caller.system(org))
    assert ask({**gateway_auth, "HTTP_X_API_KEY": plaintext}).status_code == 401


def test_a_missing_required_scope_is_insufficient_scope(gateway_auth, app, make_key):
    _, plaintext = make_key(app, None, scopes=["orders:read"])
    response = ask({**gateway_auth, "HTTP_X_API_KEY": plaintext,
                    "HTTP_PORTAL_REQUIRED_SCOPES": "orders:read orders:write"})
    assert response.status_code == 403
    assert response.json()["code"] == "INSUFFICIENT_SCOPE"
    assert response.json()["requiredScopes"] == ["orders:write"]
    assert response["Portal-Status"] == "403"
    allowed = ask({**gateway_auth, "HTTP_X_API_KEY": plaintext, "HTTP_PORTAL_REQUIRED_SCOPES": "orders:read"})
    assert allowed.status_code == 200


def test_a_credential_without_any_served_scope_is_insufficient_scope(gateway_auth, app, make_key):
    _, plaintext = make_key(app, None, scopes=["keys:read"])
    response = ask({**gateway_auth, "HTTP_X_API_KEY": plaintext})
    assert response.status_code == 403
    assert response.json()["requiredScopes"] == ["apps:read", "orders:read", "orders:write"]


@pytest.mark.parametrize("required", ["keys:read", "orders:read nosuch:scope", "x" * 300])
def test_required_scopes_the_server_does_not_serve_are_gateway_refused(gateway_auth, admin_key, required):
    response = ask({**gateway_auth, "HTTP_X_API_KEY": admin_key, "HTTP_PORTAL_REQUIRED_SCOPES": required})
    assert response.status_code == 403
    assert response.json()["code"] == "GATEWAY_REFUSED"
    assert response["Portal-Status"] == "403"


def test_the_rate_limit_is_the_apis_with_retry_after(gateway_auth, app, make_key, flush_usage):
    _, plaintext = make_key(app, "ADMIN", rate_limit_per_minute=2)
    answers = [ask({**gateway_auth, "HTTP_X_API_KEY": plaintext}) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    limited = answers[-1]
    assert limited.json()["code"] == "RATE_LIMITED"
    assert int(limited["Retry-After"]) >= 1
    assert limited["X-RateLimit-Remaining"] == "0"
    assert error_body(limited)["code"] == "RATE_LIMITED"
    # The same counter as the portal's own API.
    assert APIClient().get("/api/v1/hello", HTTP_X_API_KEY=plaintext).status_code == 429


def test_refusal_status_403_turns_every_refusal_into_a_403_carrying_the_true_one(gateway_auth, app, make_key):
    _, plaintext = make_key(app, "ADMIN", rate_limit_per_minute=1)
    mode = {"HTTP_PORTAL_REFUSAL_STATUS": "403"}
    ask({**gateway_auth, **mode, "HTTP_X_API_KEY": plaintext})
    limited = ask({**gateway_auth, **mode, "HTTP_X_API_KEY": plaintext})
    assert limited.status_code == 403
    assert limited["Portal-Status"] == "429"
    assert int(limited["Retry-After"]) >= 1
    assert error_body(limited)["code"] == "RATE_LIMITED"
    unknown = ask({**gateway_auth, **mode, "HTTP_X_API_KEY": "nope"})
    assert unknown.status_code == 403
    assert unknown["Portal-Status"] == "401"
    assert error_body(unknown) == {"error": "Authentication failed", "code": "AUTH_FAILED"}


@pytest.mark.parametrize("authorization", [
    None, "Basic", "Basic !!!", "Basic " + "QQ==", "Bearer abc", "Basic " + "x" * 5000,
])
def test_without_valid_gateway_credentials_the_answer_is_gateway_refused_and_nothing_counts(
        authorization, admin_key, flush_usage):
    headers = {"HTTP_X_API_KEY": admin_key}
    if authorization is not None:
        headers["HTTP_PORTAL_GATEWAY_AUTHORIZATION"] = authorization
    response = ask(headers)
    assert response.status_code == 403
    assert response.json()["code"] == "GATEWAY_REFUSED"
    assert response["Portal-Status"] == "403"
    assert "X-RateLimit-Limit" not in response
    flush_usage()
    assert not RequestLog.objects.exists() and not UsageCount.objects.exists()


def test_a_wrong_secret_or_a_disabled_server_is_gateway_refused(server, admin_key):
    resource_server, secret = server
    wrong = ask({"HTTP_PORTAL_GATEWAY_AUTHORIZATION": basic(resource_server.client_id, secret + "x"),
                 "HTTP_X_API_KEY": admin_key})
    assert wrong.json()["code"] == "GATEWAY_REFUSED"
    resource_server_disable(server=resource_server, actor=None)
    disabled = ask({"HTTP_PORTAL_GATEWAY_AUTHORIZATION": basic(resource_server.client_id, secret),
                    "HTTP_X_API_KEY": admin_key})
    assert disabled.json()["code"] == "GATEWAY_REFUSED"


@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete", "head", "options"])
def test_any_method_reaches_the_decision(gateway_auth, admin_key, method):
    assert ask({**gateway_auth, "HTTP_X_API_KEY": admin_key}, method=method).status_code == 200


@pytest.mark.parametrize("spelling", ["forwarded", "original"])
def test_usage_and_the_request_log_hold_the_original_method_path_and_server(
        gateway_auth, app, make_key, flush_usage, client_a, spelling):
    key, plaintext = make_key(app, "ADMIN")
    method_header, uri_header = {"forwarded": ("HTTP_X_FORWARDED_METHOD", "HTTP_X_FORWARDED_URI"),
                                 "original": ("HTTP_X_ORIGINAL_METHOD", "HTTP_X_ORIGINAL_URI")}[spelling]
    response = ask({**gateway_auth, "HTTP_X_API_KEY": plaintext, method_header: "DELETE",
                    uri_header: f"/orders/7/{plaintext}?token=secret", "HTTP_X_FORWARDED_FOR": "203.0.113.9",
                    "HTTP_USER_AGENT": "shop/1.0"})
    assert response.status_code == 200
    flush_usage()
    entry = RequestLog.objects.get(api_key=key)
    assert entry.method == "DELETE"
    assert entry.path == f"/orders/7/dp_live_{key.public_id}…"
    assert plaintext not in entry.path
    assert entry.resource_server == "orders-api"
    assert entry.ip_address == "203.0.113.9"
    assert entry.request_id == response["X-Request-Id"]
    listed = client_a.get("/api/v1/request-logs", {"apiKeyId": key.public_id}).json()["results"]
    assert [(item["method"], item["resourceServer"]) for item in listed] == [("DELETE", "orders-api")]
    usage = client_a.get("/api/v1/usage", {"apiKeyId": key.public_id, "granularity": "minute"}).json()
    assert sum(bucket["success"] for bucket in usage["results"]) == 1


def test_the_portals_own_api_logs_a_null_resource_server(client_a, flush_usage):
    assert client_a.get("/api/v1/hello").status_code == 200
    flush_usage()
    listed = client_a.get("/api/v1/request-logs").json()["results"]
    assert listed and listed[-1]["resourceServer"] is None


def test_an_oauth_token_of_a_person_names_the_subject(gateway_auth, app, developer, org):
    from oauth2_provider.models import AccessToken

    from oauthapps.models import TokenOrganization
    from tests.gateway.test_introspection import person_token

    token, client = person_token(app, developer, org, "orders:read apps:read")
    response = ask({**gateway_auth, "HTTP_AUTHORIZATION": f"Bearer {token}"})
    assert response.status_code == 200
    assert response["Portal-Credential"] == f"oauth2:{client.client_id}"
    assert response["Portal-Subject"] == str(developer.pk)
    assert response["Portal-Scopes"] == "apps:read orders:read"
    assert AccessToken.objects.exists() and TokenOrganization.objects.exists()


def test_a_client_credentials_token_has_no_subject(gateway_auth, app, make_client):
    client, secret = make_client(app, scopes=["orders:read"])
    token = Client().post("/oauth/token/", {"grant_type": "client_credentials", "scope": "orders:read"},
                          HTTP_AUTHORIZATION=basic(client.client_id, secret)).json()["access_token"]
    response = ask({**gateway_auth, "HTTP_AUTHORIZATION": f"Bearer {token}"})
    assert response.status_code == 200
    assert response["Portal-Credential"] == f"oauth2:{client.client_id}"
    assert "Portal-Subject" not in response


@pytest.mark.parametrize("headers", [
    {"HTTP_X_FORWARDED_URI": "/" + "a" * 10_240},
    {"HTTP_X_FORWARDED_METHOD": "GET /x"},
    {"HTTP_X_FORWARDED_FOR": "not-an-address"},
    {"HTTP_X_API_KEY": "dp_live_\x00"},
    {"HTTP_X_FORWARDED_URI": "/orders/\x00"},
    {"HTTP_PORTAL_GATEWAY_AUTHORIZATION": "Basic \x00"},
])
def test_bad_input_is_a_clear_refusal_never_a_500(gateway_auth, admin_key, headers):
    response = ask({**gateway_auth, "HTTP_X_API_KEY": admin_key, **headers})
    assert response.status_code in (400, 401, 403)
    assert response.json()["code"] in ("VALIDATION_ERROR", "AUTH_FAILED", "GATEWAY_REFUSED")
    assert response["Portal-Status"] == str(response.status_code)
    refused_403 = ask({**gateway_auth, "HTTP_X_API_KEY": admin_key, "HTTP_PORTAL_REFUSAL_STATUS": "403", **headers})
    assert refused_403.status_code == 403


def test_a_10_kb_uri_is_a_validation_error_naming_the_header(gateway_auth, admin_key):
    response = ask({**gateway_auth, "HTTP_X_API_KEY": admin_key, "HTTP_X_FORWARDED_URI": "/" + "a" * 10_240})
    assert response.status_code == 400
    assert "X-Forwarded-Uri" in response.json()["details"]


def test_envoy_sends_the_original_path_after_the_prefix_and_its_own_method(gateway_auth, app, make_key,
                                                                          flush_usage):
    key, plaintext = make_key(app, "ADMIN")
    response = Client().post("/gateway/auth/orders/7?x=1", **gateway_auth, HTTP_X_API_KEY=plaintext)
    assert response.status_code == 200
    flush_usage()
    entry = RequestLog.objects.get(api_key=key)
    assert (entry.method, entry.path) == ("POST", "/orders/7")


def test_the_dashboards_request_log_names_the_resource_server(gateway_auth, admin_key, flush_usage, owner,
                                                               login):
    ask({**gateway_auth, "HTTP_X_API_KEY": admin_key, "HTTP_X_FORWARDED_URI": "/orders/7"})
    flush_usage()
    page = login(owner).get("/orgs/acme/requests/").content.decode()
    assert "/orders/7" in page and "via orders-api" in page
