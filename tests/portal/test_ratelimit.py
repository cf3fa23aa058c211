"""Rate limits on the API (per credential, with headers) and against guessing (client secrets, sign-in)."""

from __future__ import annotations

import re
import time
import types
from datetime import datetime

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client, override_settings

from audit.models import AuditEvent
from portal.ratelimit import check_rate_settings
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def steady_clock(monkeypatch):
    """Counting windows are a minute long: freeze the clocks of django-ratelimit (guessing) and of the request path
    (API limits) so that no test straddles two."""
    now = time.time()
    monkeypatch.setattr("django_ratelimit.core.time", types.SimpleNamespace(time=lambda: now))
    monkeypatch.setattr("portal.api_counters.time", types.SimpleNamespace(time=lambda: now, monotonic=time.monotonic))


@pytest.fixture
def rates(settings):
    def _set(**rates: str) -> None:
        settings.PORTAL = {**settings.PORTAL, **rates}

    return _set


def test_every_api_response_carries_the_headers(client_a):
    response = client_a.get("/api/v1/hello")
    assert response["X-RateLimit-Limit"] == "100"
    assert response["X-RateLimit-Remaining"] == "99"
    reset = datetime.fromisoformat(response["X-RateLimit-Reset"].replace("Z", "+00:00"))
    assert reset.tzinfo is not None and re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", response["X-RateLimit-Reset"])
    assert client_a.get("/api/v1/hello")["X-RateLimit-Remaining"] == "98"


@pytest.mark.parametrize("path", ["/api/v1/scopes", "/api/v1/nowhere", "/api/v1/hello"])
def test_anonymous_and_refused_requests_carry_the_headers_too(api_client, path):
    response = api_client().get(path)
    assert response["X-RateLimit-Limit"] == "100"


def test_reads_and_writes_have_separate_buckets(client_a, rates):
    rates(API_READ_RATE="3/m", API_WRITE_RATE="2/m")
    assert [client_a.get("/api/v1/hello").status_code for _ in range(3)] == [200, 200, 200]
    limited = client_a.get("/api/v1/hello")
    assert limited.status_code == 429
    assert limited.json()["code"] == "RATE_LIMITED"
    assert int(limited["Retry-After"]) >= 1 and limited["X-RateLimit-Remaining"] == "0"
    posts = [client_a.post("/api/v1/applications", {"name": f"a{n}"}, format="json").status_code for n in range(3)]
    assert posts == [201, 201, 429]


def test_each_credential_has_its_own_bucket(client_a, api_client, app, make_key, rates):
    rates(API_READ_RATE="2/m")
    _, other = make_key(app, "READ_ONLY")
    assert [client_a.get("/api/v1/hello").status_code for _ in range(3)] == [200, 200, 429]
    assert api_client(other).get("/api/v1/hello").status_code == 200


def test_a_keys_own_limit_replaces_both_buckets_and_counts_every_request(api_client, app, make_key):
    _, key = make_key(app, "ADMIN", rate_limit_per_minute=3)
    client = api_client(key)
    codes = [client.get("/api/v1/hello").status_code, client.post("/api/v1/applications", {"name": "x"},
                                                                  format="json").status_code,
             client.get("/api/v1/hello").status_code, client.get("/api/v1/hello").status_code]
    assert codes == [200, 201, 200, 429]
    assert client.get("/api/v1/me")["X-RateLimit-Limit"] == "3"


def test_an_oauth_clients_limit_covers_every_token_it_holds(app, make_client, api_client):
    client, secret = make_client(app, rate_limit_per_minute=2)
    tokens = [Client().post("/oauth/token/", {"grant_type": "client_credentials", "client_id": client.client_id,
                                               "client_secret": secret}).json()["access_token"] for _ in range(2)]
    codes = [api_client(tokens[0], header="Bearer").get("/api/v1/hello").status_code,
             api_client(tokens[1], header="Bearer").get("/api/v1/hello").status_code,
             api_client(tokens[0], header="Bearer").get("/api/v1/hello").status_code]
    assert codes == [200, 200, 429]


def test_refused_credentials_count_per_client_ip(api_client, rates):
    rates(API_READ_RATE="2/m")
    codes = [api_client("dp_live_guess").get("/api/v1/hello").status_code for _ in range(3)]
    assert codes == [401, 401, 429]


def test_limits_can_be_turned_off(client_a, rates):
    rates(API_READ_RATE="1/m", RATELIMITS_ENABLED=False)
    responses = [client_a.get("/api/v1/hello") for _ in range(3)]
    assert [r.status_code for r in responses] == [200, 200, 200]
    assert "X-RateLimit-Limit" not in responses[0]


# Against guessing ----------------------------------------------------------------------------------------


def token_request(client_id: str, secret: str, **extra):
    return Client(**extra).post("/oauth/token/", {"grant_type": "client_credentials", "client_id": client_id,
                                                  "client_secret": secret})


def json_auth(client_id: str, secret: str, **extra):
    return Client(**extra).post("/api/v1/auth", {"clientId": client_id, "clientSecret": secret},
                                content_type="application/json")


def test_failed_client_authentications_are_limited_per_client_across_both_endpoints(app, make_client, rates):
    rates(CLIENT_AUTH_FAILURES_PER_CLIENT="3/m")
    client, secret = make_client(app)
    assert token_request(client.client_id, "wrong").status_code == 401
    assert json_auth(client.client_id, "wrong").status_code == 401
    assert token_request(client.client_id, "wrong").status_code == 401
    blocked = token_request(client.client_id, secret)  # even the right secret waits now
    assert blocked.status_code == 429 and int(blocked["Retry-After"]) >= 1
    assert blocked.json()["error"] == "rate_limited"
    blocked_json = json_auth(client.client_id, secret)
    assert blocked_json.status_code == 429 and blocked_json.json()["code"] == "RATE_LIMITED"
    assert "Retry-After" in blocked_json


def test_unknown_and_known_clients_are_answered_alike(app, make_client, rates):
    rates(CLIENT_AUTH_FAILURES_PER_CLIENT="2/m")
    client, _ = make_client(app)
    for client_id in (client.client_id, "no-such-client"):
        answers = [(r.status_code, r.json()["error"]) for r in (token_request(client_id, "x") for _ in range(3))]
        assert answers == [(401, "invalid_client"), (401, "invalid_client"), (429, "rate_limited")]


def test_failures_are_limited_per_client_ip(app, make_client, rates):
    rates(CLIENT_AUTH_FAILURES_PER_IP="3/m")
    client, secret = make_client(app)
    for n in range(3):
        assert token_request(f"guess-{n}", "x").status_code == 401
    assert token_request(client.client_id, secret).status_code == 429
    assert token_request(client.client_id, secret, REMOTE_ADDR="10.9.9.9").status_code == 200


def test_going_past_the_limit_is_audited_once_per_window(app, make_client, rates):
    rates(CLIENT_AUTH_FAILURES_PER_CLIENT="2/m")
    client, _ = make_client(app)
    for _ in range(6):
        token_request(client.client_id, "wrong")
    events = AuditEvent.objects.filter(action="security.rate_limited")
    assert events.count() == 1
    assert events.get().metadata["kind"] == "client_auth"


def test_sign_in_is_limited_per_email_with_the_message_in_the_page(owner, rates):
    rates(SIGN_IN_FAILURES_PER_EMAIL="3/m")
    browser = Client()
    for _ in range(3):
        assert browser.post("/accounts/login/", {"username": owner.email, "password": "nope"}).status_code == 200
    refused = browser.post("/accounts/login/", {"username": owner.email, "password": PASSWORD})
    assert refused.status_code == 429
    assert "Too many failed sign-in attempts" in refused.content.decode()
    assert "_auth_user_id" not in browser.session
    other_email = browser.post("/accounts/login/", {"username": "someone@example.com", "password": "x"})
    assert other_email.status_code == 200


def test_sign_in_is_limited_per_client_ip(owner, rates):
    rates(SIGN_IN_FAILURES_PER_IP="3/m")
    for n in range(3):
        Client().post("/accounts/login/", {"username": f"guess{n}@example.com", "password": "x"})
    assert Client().post("/accounts/login/", {"username": owner.email, "password": PASSWORD}).status_code == 429
    ok = Client(REMOTE_ADDR="10.1.1.1").post("/accounts/login/", {"username": owner.email, "password": PASSWORD})
    assert ok.status_code == 302


@pytest.mark.parametrize("name", ["API_READ_RATE", "CLIENT_AUTH_FAILURES_PER_IP", "SIGN_IN_FAILURES_PER_EMAIL"])
@pytest.mark.parametrize("value", ["100/fortnight", "fast", "0/m", "100"])
def test_a_malformed_rate_stops_start_up_naming_the_setting(settings, name, value):
    with override_settings(PORTAL={**settings.PORTAL, name: value}):
        with pytest.raises(ImproperlyConfigured, match=name):
            check_rate_settings()
