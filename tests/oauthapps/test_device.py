"""The device authorization grant (RFC 8628) as a command-line tool and its person run it: the tool posts to
``/oauth/device-authorization/`` and polls ``/oauth/token/``; the person signs in at ``/device``, types the
code and consents."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from oauth2_provider.models import DeviceGrant

from accounts.roles import Role
from audit.models import AuditEvent
from oauthapps.models import DeviceAuthorization
from tests.factories import MembershipFactory, OrganizationFactory
from tests.helpers import stored_text_containing
from tests.oauthapps.conftest import form_post

pytestmark = pytest.mark.django_db

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
UNAMBIGUOUS = set("BCDFGHJKLMNPQRSTVWXZ")


@pytest.fixture
def cli_client(app, make_client):
    """A public client for a command-line tool, allowed the device grant (and refresh tokens)."""
    client, _secret = make_client(app, grants=(DEVICE_GRANT, "refresh_token"), client_type="public",
                                  scopes=("apps:read", "apps:write", "keys:read"))
    return client


def start(client, scope="apps:read apps:write") -> dict:
    response = form_post("/oauth/device-authorization/", {"client_id": client.client_id, "scope": scope})
    assert response.status_code == 200, response.content
    assert response["Cache-Control"] == "no-store"
    return response.json()


def poll(client, device_code: str):
    return form_post("/oauth/token/", {"grant_type": DEVICE_GRANT, "device_code": device_code,
                                           "client_id": client.client_id})


def wait_an_interval(device_code: str) -> None:
    """As if the tool had waited its interval since its last poll."""
    grant = DeviceGrant.objects.get(device_code=hashlib.sha256(device_code.encode()).hexdigest())
    DeviceAuthorization.objects.filter(device_grant=grant).update(
        last_polled_at=timezone.now() - timedelta(seconds=grant.interval + 1))


def approve(browser: Client, user_code: str, organization: str, allow: bool = True):
    page = browser.post("/device", {"user_code": user_code})
    assert page.status_code == 200
    assert b'name="organization"' in page.content
    form = {"user_code": user_code, "organization": organization}
    if allow:
        form["allow"] = "Authorize"
    return browser.post("/device", form)


def test_device_authorization_answers_as_rfc_8628_says(cli_client):
    body = start(cli_client)
    assert set(body) == {"device_code", "user_code", "verification_uri", "verification_uri_complete",
                         "expires_in", "interval"}
    assert body["verification_uri"] == "http://testserver/device"
    assert body["verification_uri_complete"] == f"http://testserver/device?user_code={body['user_code']}"
    assert body["expires_in"] == 600 and body["interval"] == 5
    assert re.fullmatch(r"[A-Z]{4}-[A-Z]{4}", body["user_code"])
    assert set(body["user_code"].replace("-", "")) <= UNAMBIGUOUS
    assert len(body["device_code"]) >= 30


def test_device_code_is_stored_only_as_a_hash(cli_client):
    body = start(cli_client)
    assert stored_text_containing(body["device_code"]) == []
    assert DeviceGrant.objects.filter(
        device_code=hashlib.sha256(body["device_code"].encode()).hexdigest()).exists()


def test_the_whole_flow_pending_slow_down_then_tokens_once(cli_client, developer, org, login, api_client):
    body = start(cli_client)
    device_code = body["device_code"]

    pending = poll(cli_client, device_code)
    assert pending.status_code == 400 and pending.json()["error"] == "authorization_pending"
    too_fast = poll(cli_client, device_code)
    assert too_fast.status_code == 400 and too_fast.json()["error"] == "slow_down"
    assert DeviceGrant.objects.get(client_id=cli_client.client_id).interval == 10

    browser = login(developer)
    typed = body["user_code"].lower().replace("-", " ")  # case and the dash do not matter
    done = approve(browser, typed, org.slug)
    assert done.status_code == 200
    assert b"Device connected" in done.content

    wait_an_interval(device_code)
    answer = poll(cli_client, device_code)
    assert answer.status_code == 200, answer.content
    tokens = answer.json()
    assert answer["Cache-Control"] == "no-store"
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 3600
    assert sorted(tokens["scope"].split()) == ["apps:read", "apps:write"]
    assert tokens["refresh_token"]
    me = api_client(tokens["access_token"], "Bearer").get("/api/v1/me")
    assert me.status_code == 200
    assert me.json()["user"]["email"] == developer.email and me.json()["organization"]["slug"] == org.slug

    again = poll(cli_client, device_code)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    assert AuditEvent.objects.filter(action="oauth_consent.granted", actor_user=developer).exists()


def test_verification_uri_complete_opens_the_consent_step_directly(cli_client, developer, login):
    body = start(cli_client)
    page = login(developer).get(f"/device?user_code={body['user_code']}")
    assert page.status_code == 200
    assert body["user_code"].encode() in page.content  # the person compares it with the device
    assert b'name="organization"' in page.content and b"apps:write" in page.content


def test_the_person_choosing_another_organization_binds_the_token_there_with_their_role_there(
    cli_client, developer, login, api_client
):
    elsewhere = OrganizationFactory(name="Initech", slug="initech")
    MembershipFactory(organization=elsewhere, user=developer, role=Role.VIEWER)
    body = start(cli_client)
    approve(login(developer), body["user_code"], elsewhere.slug)
    wait_an_interval(body["device_code"])
    tokens = poll(cli_client, body["device_code"]).json()
    assert tokens["scope"] == "apps:read"  # a viewer there cannot grant apps:write
    me = api_client(tokens["access_token"], "Bearer").get("/api/v1/me").json()
    assert me["organization"]["slug"] == "initech"


def test_declining_answers_access_denied(cli_client, developer, org, login):
    body = start(cli_client)
    page = approve(login(developer), body["user_code"], org.slug, allow=False)
    assert b"Device not connected" in page.content
    wait_an_interval(body["device_code"])
    denied = poll(cli_client, body["device_code"])
    assert denied.status_code == 400 and denied.json()["error"] == "access_denied"


def test_codes_expire_after_ten_minutes(cli_client, developer, login):
    body = start(cli_client)
    grant = DeviceGrant.objects.get(client_id=cli_client.client_id)
    assert timedelta(seconds=590) < grant.expires - timezone.now() <= timedelta(seconds=600)
    DeviceGrant.objects.filter(pk=grant.pk).update(expires=timezone.now() - timedelta(seconds=1))
    expired = poll(cli_client, body["device_code"])
    assert expired.status_code == 400 and expired.json()["error"] == "expired_token"
    page = login(developer).post("/device", {"user_code": body["user_code"]})
    assert b"not valid, has expired or was already used" in page.content
    assert b'name="organization"' not in page.content


def test_a_wrong_code_is_refused_and_guessing_is_limited(cli_client, developer, login):
    start(cli_client)
    browser = login(developer)
    for _ in range(10):
        page = browser.post("/device", {"user_code": "BCDF-GHJK"})
        assert page.status_code == 200 and b"not valid" in page.content
    blocked = browser.post("/device", {"user_code": "BCDF-GHJK"})
    assert blocked.status_code == 429


def test_the_device_page_needs_a_signed_in_person():
    response = Client().get("/device?user_code=BCDF-GHJK")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_unknown_device_code_is_invalid_grant(cli_client):
    response = poll(cli_client, "not-a-device-code")
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


def test_a_client_not_allowed_the_device_grant_is_unauthorized_client(app, make_client, token_request):
    client, secret = make_client(app, grants=("client_credentials",))
    response = form_post("/oauth/device-authorization/", {"client_id": client.client_id,
                                                              "client_secret": secret})
    assert response.status_code == 400 and response.json()["error"] == "unauthorized_client"
    assert not DeviceGrant.objects.exists()
    polled = token_request({"grant_type": DEVICE_GRANT, "device_code": "whatever"}, client, secret)
    assert polled.status_code == 400 and polled.json()["error"] == "unauthorized_client"


def test_a_confidential_client_must_authenticate_at_the_device_endpoint(app, make_client):
    client, secret = make_client(app, grants=(DEVICE_GRANT,))
    refused = form_post("/oauth/device-authorization/", {"client_id": client.client_id,
                                                             "client_secret": "wrong"})
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_client"
    accepted = form_post("/oauth/device-authorization/", {"client_id": client.client_id,
                                                              "client_secret": secret})
    assert accepted.status_code == 200


def test_a_scope_beyond_the_client_is_invalid_scope(cli_client):
    response = form_post("/oauth/device-authorization/", {"client_id": cli_client.client_id,
                                                              "scope": "team:write"})
    assert response.status_code == 400 and response.json()["error"] == "invalid_scope"


def test_api_registers_a_public_device_client_without_redirect_uris(client_a, app):
    response = client_a.post("/api/v1/oauth-clients", {
        "name": "CLI", "applicationId": app.pk, "clientType": "public",
        "grantTypes": [DEVICE_GRANT, "refresh_token"], "allowedScopes": ["apps:read", "openid"],
    }, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body["grantTypes"]) == {DEVICE_GRANT, "refresh_token"}
    assert body["clientSecret"] is None and body["redirectUris"] == []


def _basic(client_id: str, secret: str) -> str:
    import base64

    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def test_a_confidential_client_authenticates_with_http_basic_alone(app, make_client):
    """RFC 8628 3.1: the device endpoint authenticates a client as the token endpoint does (RFC 6749 2.3.1)."""
    client, secret = make_client(app, grants=(DEVICE_GRANT,))
    accepted = form_post("/oauth/device-authorization/", {"scope": "apps:read"},
                         HTTP_AUTHORIZATION=_basic(client.client_id, secret))
    assert accepted.status_code == 200, accepted.content
    assert {"device_code", "user_code"} <= set(accepted.json())
    refused = form_post("/oauth/device-authorization/", {"scope": "apps:read"},
                        HTTP_AUTHORIZATION=_basic(client.client_id, "wrong"))
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_client"
    both = form_post("/oauth/device-authorization/", {"client_id": client.client_id, "client_secret": secret},
                     HTTP_AUTHORIZATION=_basic(client.client_id, secret))
    assert both.status_code == 400 and both.json()["error"] == "invalid_request"
    assert DeviceGrant.objects.count() == 1
