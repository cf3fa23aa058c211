"""``/oauth/introspect/`` for resource servers (section 18), called as a Go or Node service would: plain HTTP with
``requests``, HTTP Basic, a form body."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests
from django.test import Client
from django.utils import timezone
from oauth2_provider.models import AccessToken
from requests.auth import HTTPBasicAuth

from accounts.organizations.services import organization_suspend
from apikeys.services import api_key_revoke, api_key_rotate
from oauthapps.models import TokenOrganization
from portal.callers import Caller
from portal.hashing import sha256
from tests.gateway.conftest import basic
from usage.models import RequestLog

URL = "/oauth/introspect/"


def person_token(app, user, org, scope: str) -> tuple[str, object]:
    """An access token a person granted (as the authorization-code flow leaves it), and its client."""
    from oauthapps.services.clients import oauth_client_create

    client, _ = oauth_client_create(caller=Caller.system(org), application=app, name="web",
                                    grant_types=["authorization_code"],
                                    redirect_uris=["https://client.example.com/callback"],
                                    allowed_scopes=scope.split())
    token = "person-token-" + "x" * 20
    access = AccessToken.objects.create(user=user, application=client, token=token, token_checksum=sha256(token),
                                        scope=scope, expires=timezone.now() + timedelta(hours=1))
    TokenOrganization.objects.create(access_token=access, organization=org)
    return token, client


@pytest.mark.django_db
class TestThroughDjangosClient:
    def introspect(self, server, data, **headers):
        resource_server, secret = server
        return Client().post(URL, data, HTTP_AUTHORIZATION=basic(resource_server.client_id, secret), **headers)

    def test_an_active_key_has_exactly_the_contracts_fields(self, server, app, make_key):
        key, plaintext = make_key(app, None, scopes=["orders:read", "keys:read"], expires_in_days=30)
        body = self.introspect(server, {"token": plaintext, "token_type_hint": "api_key"}).json()
        assert body == {"active": True, "token_type": "api_key", "scope": "orders:read", "org": "acme",
                        "iat": int(key.created_at.timestamp()), "exp": int(key.expires_at.timestamp()),
                        "key_id": key.public_id}

    def test_a_key_that_never_expires_has_no_exp(self, server, app, make_key):
        _, plaintext = make_key(app, "ADMIN", expires_in_days=None)
        body = self.introspect(server, {"token": plaintext}).json()
        assert body["active"] is True and "exp" not in body
        assert body["scope"] == "apps:read orders:read orders:write"

    def test_a_person_token_names_its_subject_and_client(self, server, app, developer, org):
        token, client = person_token(app, developer, org, "orders:read apps:read")
        body = self.introspect(server, {"token": token, "token_type_hint": "access_token"}).json()
        assert body["active"] is True
        assert body["token_type"] == "access_token"
        assert body["sub"] == str(developer.pk)
        assert body["client_id"] == client.client_id
        assert body["org"] == "acme"
        assert body["scope"] == "apps:read orders:read"
        assert set(body) == {"active", "token_type", "scope", "org", "iat", "exp", "client_id", "sub"}

    def test_a_client_credentials_token_has_no_subject(self, server, app, make_client):
        client, secret = make_client(app, scopes=["orders:read"])
        token = Client().post("/oauth/token/", {"grant_type": "client_credentials", "scope": "orders:read"},
                              HTTP_AUTHORIZATION=basic(client.client_id, secret)).json()["access_token"]
        body = self.introspect(server, {"token": token}).json()
        assert body["active"] is True and "sub" not in body
        assert body["client_id"] == client.client_id

    def test_any_organizations_credential_may_be_introspected(self, server, other_app, make_key):
        _, plaintext = make_key(other_app, "ADMIN")
        assert self.introspect(server, {"token": plaintext}).json()["org"] == "globex"

    def test_inactive_cases_answer_active_false_and_nothing_else(self, server, app, make_key, org):
        revoked, revoked_plain = make_key(app, "ADMIN")
        api_key_revoke(caller=Caller.system(org), key=revoked, reason="test")
        expired, expired_plain = make_key(app, "ADMIN")
        type(expired).objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
        rotated, rotated_plain = make_key(app, "ADMIN")
        api_key_rotate(caller=Caller.system(org), key=rotated, grace_period_hours=0)
        _, unrelated = make_key(app, None, scopes=["keys:read"])  # shares no scope with the server
        _, ranged = make_key(app, "ADMIN", allowed_ips=["198.51.100.0/24"])
        for token in (revoked_plain, expired_plain, rotated_plain, unrelated, ranged, "dp_live_garbage",
                      "an-unknown-token", "x" * 10_000):
            response = self.introspect(server, {"token": token})
            assert response.status_code == 200
            assert response.json() == {"active": False}, token[:20]
        _, plaintext = make_key(app, "ADMIN")
        organization_suspend(caller=Caller.system(org))
        assert self.introspect(server, {"token": plaintext}).json() == {"active": False}

    def test_client_ip_is_checked_against_a_keys_ranges(self, server, app, make_key):
        _, ranged = make_key(app, "ADMIN", allowed_ips=["198.51.100.0/24"])
        assert self.introspect(server, {"token": ranged, "client_ip": "198.51.100.7"}).json()["active"] is True
        assert self.introspect(server, {"token": ranged, "client_ip": "10.0.0.1"}).json() == {"active": False}
        assert self.introspect(server, {"token": ranged, "client_ip": "nonsense"}).json() == {"active": False}

    def test_introspection_counts_no_usage_and_no_rate_limit(self, server, app, make_key, flush_usage,
                                                              api_client):
        _, plaintext = make_key(app, "ADMIN", rate_limit_per_minute=2)
        for _ in range(5):
            assert self.introspect(server, {"token": plaintext}).json()["active"] is True
        assert api_client(plaintext).get("/api/v1/hello").status_code == 200
        flush_usage()
        assert RequestLog.objects.count() == 1

    @pytest.mark.parametrize("data, status, error", [
        ({}, 400, "invalid_request"),
        ({"token": "abc", "token_type_hint": "bogus"}, 400, "unsupported_token_type"),
        ({"token": "abc", "client_id": "rs_x", "client_secret": "y"}, 400, "invalid_request"),
    ])
    def test_bad_input_is_a_clear_refusal(self, server, data, status, error):
        response = self.introspect(server, data)
        assert response.status_code == status
        assert response.json()["error"] == error

    def test_a_nul_byte_is_a_clear_refusal(self, server):
        response = self.introspect(server, {"token": "abc\x00"})
        assert response.status_code == 400

    @pytest.mark.parametrize("authorization", [
        "Basic " + "cnNfbm9uZTp4",  # rs_none:x, unknown
        "Basic !!!",
    ])
    def test_unknown_or_malformed_resource_server_credentials_are_401(self, server, authorization):
        response = Client().post(URL, {"token": "abc"}, HTTP_AUTHORIZATION=authorization)
        assert response.status_code == 401
        assert response.json()["error"] == "invalid_client"

    def test_a_disabled_server_or_an_old_secret_is_401(self, server, admin_key):
        from gateway.services import resource_server_disable, resource_server_rotate_secret

        resource_server, secret = server
        _, new_secret = resource_server_rotate_secret(server=resource_server, actor=None)
        assert self.introspect(server, {"token": admin_key}).status_code == 401
        assert self.introspect((resource_server, new_secret), {"token": admin_key}).status_code == 200
        resource_server_disable(server=resource_server, actor=None)
        assert self.introspect((resource_server, new_secret), {"token": admin_key}).status_code == 401

    def test_an_organizations_own_client_still_introspects_as_before(self, app, make_client):
        client, secret = make_client(app, scopes=["apps:read"])
        token = Client().post("/oauth/token/", {"grant_type": "client_credentials", "scope": "apps:read"},
                              HTTP_AUTHORIZATION=basic(client.client_id, secret)).json()["access_token"]
        body = Client().post(URL, {"token": token}, HTTP_AUTHORIZATION=basic(client.client_id, secret)).json()
        assert body["active"] is True and body["client_id"] == client.client_id


@pytest.mark.django_db(transaction=True)
def test_a_service_in_any_language_introspects_over_plain_http(live_server, server, app, make_key):
    """What a Go or Node service sends: a form POST with HTTP Basic, and JSON back."""
    resource_server, secret = server
    key, plaintext = make_key(app, None, scopes=["orders:read"])
    response = requests.post(f"{live_server.url}{URL}", data={"token": plaintext, "token_type_hint": "api_key"},
                             auth=HTTPBasicAuth(resource_server.client_id, secret), timeout=30)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.json()["active"] is True and response.json()["key_id"] == key.public_id
    inactive = requests.post(f"{live_server.url}{URL}", data={"token": plaintext + "x"},
                             auth=HTTPBasicAuth(resource_server.client_id, secret), timeout=30)
    assert inactive.json() == {"active": False}
