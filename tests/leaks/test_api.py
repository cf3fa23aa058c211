"""Leaked credentials revoke themselves: GitHub's signed secret scanning reports, and the public revocation
endpoint. Through HTTP, with a key pair made here and GitHub's keys served from loopback."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from apikeys import crypto
from apikeys.models import ApiKey
from audit.models import AuditEvent
from leaks.models import LeakReport
from tests.helpers import stored_text_containing
from tests.leaks.conftest import KEY_IDENTIFIER, finding, make_key_pair

pytestmark = pytest.mark.django_db

REVOKE_URL = "/api/v1/credentials/revoke"


def hello(api_client, key: str) -> int:
    return api_client(key).get("/api/v1/hello").status_code


def invented_key(environment: str = "live") -> str:
    """Well-formed, right checksum, never issued."""
    return crypto.generate_key(prefix="dp", environment=environment)[0]


# GitHub secret scanning --------------------------------------------------------------------------------------


def test_a_signed_report_revokes_the_live_key_and_labels_every_token(report, app, make_key, api_client):
    key, plaintext = make_key(app)
    revoked, revoked_plain = make_key(app, name="old")
    ApiKey.objects.filter(pk=revoked.pk).update(revoked_at=timezone.now())
    expired, expired_plain = make_key(app, name="expired")
    ApiKey.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    invented, mistyped = invented_key(), plaintext[:-1] + ("A" if plaintext[-1] != "A" else "B")
    assert hello(api_client, plaintext) == 200

    response = report([plaintext, revoked_plain, expired_plain, invented, mistyped])

    assert response.status_code == 200, response.content
    assert response.json() == [
        {"token_raw": plaintext, "token_type": "portal_api_key", "label": "true_positive"},
        {"token_raw": revoked_plain, "token_type": "portal_api_key", "label": "false_positive"},
        {"token_raw": expired_plain, "token_type": "portal_api_key", "label": "false_positive"},
        {"token_raw": invented, "token_type": "portal_api_key", "label": "false_positive"},
        {"token_raw": mistyped, "token_type": "portal_api_key", "label": "false_positive"},
    ]
    assert hello(api_client, plaintext) == 401
    key.refresh_from_db()
    assert key.revoked_at is not None
    (leak,) = LeakReport.objects.all()
    assert (leak.api_key, leak.via, leak.source) == (key, "github", "content")
    assert leak.url == "https://github.com/octo/hello/blob/abc123/config.py"
    event = AuditEvent.objects.get(action="api_key.leaked")
    assert event.metadata == {"publicId": key.public_id, "via": "github", "source": "content",
                              "url": leak.url, "tokenType": "portal_api_key"}
    assert event.organization_id == app.organization_id and event.actor_label == "GitHub secret scanning"
    assert AuditEvent.objects.get(action="api_key.revoked").metadata["reason"] == "leaked"
    # The others changed nothing: the revoked one keeps its time, the expired one is not revoked.
    expired.refresh_from_db()
    assert expired.revoked_at is None
    assert not AuditEvent.objects.filter(action="api_key.leaked", target_id__in=[revoked.pk, expired.pk]).exists()
    assert stored_text_containing(plaintext) == []


def test_a_second_report_of_the_same_key_is_a_false_positive_and_records_nothing_more(report, app, make_key):
    _key, plaintext = make_key(app)
    assert report([plaintext]).json()[0]["label"] == "true_positive"
    assert report([plaintext]).json()[0]["label"] == "false_positive"
    assert LeakReport.objects.count() == 1
    assert AuditEvent.objects.filter(action="api_key.leaked").count() == 1


def _unknown_signer(report, items):
    return report(items, signer=make_key_pair()[0])


def _tampered(report, items):
    body = json.dumps(items).encode()
    return report(items, body=body.replace(b"content", b"commit"), signed_body=body)


def _bad_base64(report, items):
    return report(items, signature="not base64 !!")


def _no_identifier(report, items):
    return report(items, identifier=None)


def _no_signature(report, items):
    return report(items, signature="")


@pytest.mark.parametrize("send", [_unknown_signer, _tampered, _bad_base64, _no_identifier, _no_signature],
                         ids=["signed-by-another-key", "tampered-body", "bad-base64", "no-identifier",
                              "no-signature"])
def test_a_report_without_a_good_signature_is_401_and_changes_nothing(send, report, app, make_key, api_client):
    key, plaintext = make_key(app)
    response = send(report, [finding(plaintext)])
    assert response.status_code == 401
    assert response.json() == {"error": "Authentication failed", "code": "AUTH_FAILED"}
    assert hello(api_client, plaintext) == 200
    assert not LeakReport.objects.exists() and not AuditEvent.objects.filter(action__contains="leaked").exists()


def test_an_unknown_identifier_fetches_the_keys_again_then_is_401(report, keys_server, app, make_key, api_client):
    _key, plaintext = make_key(app)
    assert report([invented_key()]).status_code == 200  # the keys are now cached
    assert keys_server.hits == 1

    response = report([plaintext], identifier="rotated-or-invented")

    assert response.status_code == 401
    assert keys_server.hits == 2  # fetched again: GitHub may have rotated its key
    assert hello(api_client, plaintext) == 200
    # The same unknown identifier within the minute does not make the portal ask GitHub again.
    assert report([plaintext], identifier="rotated-or-invented").status_code == 401
    assert keys_server.hits == 2


def test_a_key_github_rotates_in_is_found_by_fetching_again(report, keys_server, app, make_key):
    assert report([invented_key()]).status_code == 200
    new_private, new_pem = make_key_pair()
    keys_server.add_key("new-key", new_pem)
    _key, plaintext = make_key(app)
    response = report([plaintext], identifier="new-key", signer=new_private)
    assert response.status_code == 200 and response.json()[0]["label"] == "true_positive"


def test_the_keys_are_cached_between_reports(report, keys_server):
    for _ in range(3):
        assert report([invented_key()]).status_code == 200
    assert keys_server.hits == 1


@pytest.mark.parametrize("cached", [False, True], ids=["nothing-cached", "unknown-identifier-while-down"])
def test_keys_url_down_is_503_and_changes_nothing(cached, report, keys_server, app, make_key, api_client):
    _key, plaintext = make_key(app)
    if cached:
        assert report([invented_key()]).status_code == 200
    keys_server.down = True
    response = report([plaintext], identifier="new-key" if cached else KEY_IDENTIFIER)
    assert response.status_code == 503
    assert response.json()["code"] == "SERVICE_UNAVAILABLE" and response["Retry-After"]
    assert hello(api_client, plaintext) == 200
    assert not LeakReport.objects.exists()


def test_keys_url_unreachable_is_503(report, keys_server, app, make_key, api_client):
    keys_server.stop()
    _key, plaintext = make_key(app)
    assert report([plaintext]).status_code == 503
    assert hello(api_client, plaintext) == 200


@pytest.mark.parametrize("body", [b"not json", b'{"token": "x"}', b'[{"token": 5}]', b"[1]", b"\xff\xfe"],
                         ids=["not-json", "not-a-list", "token-not-a-string", "item-not-an-object", "not-utf8"])
def test_a_signed_body_of_the_wrong_shape_is_400(body, report):
    response = report([], body=body)
    assert response.status_code == 400
    assert response.json()["code"] == "VALIDATION_ERROR"


def test_a_report_of_1000_tokens_is_answered_in_time_with_a_bounded_number_of_queries(
        report, app, make_key, django_assert_max_num_queries):
    real = [make_key(app, name=f"key {n}")[1] for n in range(3)]
    tokens = real + [invented_key() for _ in range(900)] + [f"dp_live_{'x' * 58}" for _ in range(97)]
    assert len(tokens) == 1000
    started = time.monotonic()
    # One query for the keys (two batches of 500 at most), none for the malformed ones; then the writes of each
    # real key's revocation, its webhook event and its mail, a fixed number per key.
    with django_assert_max_num_queries(4 + 16 * len(real)):
        response = report(tokens)
    elapsed = time.monotonic() - started
    assert response.status_code == 200
    labels = [item["label"] for item in response.json()]
    assert labels == ["true_positive"] * 3 + ["false_positive"] * 997
    assert [item["token_raw"] for item in response.json()] == tokens
    assert elapsed < 10  # the contract's bound; generous on purpose (a shared CI machine)
    assert ApiKey.objects.filter(revoked_at__isnull=False).count() == 3


def test_the_scanning_endpoint_is_not_refused_by_the_per_ip_api_limit(report, settings):
    settings.PORTAL = {**settings.PORTAL, "API_WRITE_RATE": "2/m"}
    for _ in range(4):
        assert report([invented_key()]).status_code == 200


# OAuth tokens ------------------------------------------------------------------------------------------------


@pytest.fixture
def access_token(app, make_client):
    """A live access token of a client-credentials client of ``org``."""
    from django.test import Client

    client, secret = make_client(app)
    response = Client().post("/oauth/token/", {"grant_type": "client_credentials", "client_id": client.client_id,
                                               "client_secret": secret})
    assert response.status_code == 200, response.content
    return client, response.json()["access_token"]


def test_an_oauth_access_token_in_a_report_is_revoked(report, access_token, api_client):
    client, token = access_token
    assert api_client(token, header="Bearer").get("/api/v1/hello").status_code == 200
    response = report([{"token": token, "type": "portal_oauth_token", "url": "https://gist.github.com/x",
                        "source": "gist"}])
    assert response.json() == [{"token_raw": token, "token_type": "portal_oauth_token", "label": "true_positive"}]
    assert api_client(token, header="Bearer").get("/api/v1/hello").status_code == 401
    leak = LeakReport.objects.get()
    assert (leak.kind, leak.oauth_client, leak.source) == ("oauth_access_token", client, "gist")
    event = AuditEvent.objects.get(action="oauth_token.leaked")
    assert event.metadata["clientId"] == client.client_id and event.metadata["url"] == "https://gist.github.com/x"
    assert token not in json.dumps(list(AuditEvent.objects.values_list("metadata", flat=True)))
    # Reported again, it is gone: a false positive.
    assert report([token]).json()[0]["label"] == "false_positive"


def test_an_oauth_refresh_token_in_a_report_is_revoked_with_its_access_token(report, app, make_client, login,
                                                                             developer, org, api_client):
    from tests.oauthapps.conftest import REDIRECT_URI, pkce_pair, query_of

    client, secret = make_client(app, grants=("authorization_code", "refresh_token"))
    browser = login(developer)
    verifier, challenge = pkce_pair()
    page = browser.get("/oauth/authorize/", {"response_type": "code", "client_id": client.client_id,
                                             "redirect_uri": REDIRECT_URI, "scope": "apps:read", "state": "s",
                                             "code_challenge": challenge, "code_challenge_method": "S256"})
    assert page.status_code == 200
    answer = browser.post("/oauth/authorize/", {"response_type": "code", "client_id": client.client_id,
                                                "redirect_uri": REDIRECT_URI, "scope": "apps:read", "state": "s",
                                                "code_challenge": challenge, "code_challenge_method": "S256",
                                                "organization": org.slug, "allow": "Authorize"})
    code = query_of(answer["Location"])["code"]
    tokens = APIClient().post("/oauth/token/", {"grant_type": "authorization_code", "code": code,
                                                "redirect_uri": REDIRECT_URI, "code_verifier": verifier,
                                                "client_id": client.client_id, "client_secret": secret},
                              format="multipart").json()

    response = report([tokens["refresh_token"]])

    assert response.json()[0]["label"] == "true_positive"
    assert api_client(tokens["access_token"], header="Bearer").get("/api/v1/hello").status_code == 401
    refreshed = APIClient().post("/oauth/token/", {"grant_type": "refresh_token", "client_id": client.client_id,
                                                   "client_secret": secret,
                                                   "refresh_token": tokens["refresh_token"]}, format="multipart")
    assert refreshed.status_code == 400
    assert LeakReport.objects.get().kind == "oauth_refresh_token"


# The public revocation endpoint ------------------------------------------------------------------------------


def revoke(credentials, ip: str = "203.0.113.7"):
    return APIClient().post(REVOKE_URL, {"credentials": credentials}, format="json", REMOTE_ADDR=ip)


def test_the_public_endpoint_answers_the_same_bytes_for_real_and_invented_keys(app, make_key, api_client):
    key, plaintext = make_key(app)
    invented = revoke([invented_key()], ip="203.0.113.8")
    real = revoke([plaintext])
    assert real.status_code == invented.status_code == 202
    assert real.content == invented.content
    assert real.json() == {"message": "Accepted. Every live credential among those sent has been revoked."}
    assert hello(api_client, plaintext) == 401
    event = AuditEvent.objects.get(action="api_key.leaked")
    assert event.metadata["via"] == "public" and event.metadata["publicId"] == key.public_id
    assert event.ip_address == "203.0.113.7"
    assert LeakReport.objects.get().via == "public"


def test_the_public_endpoint_needs_no_credential_and_ignores_a_bad_one(app, make_key, api_client):
    _key, plaintext = make_key(app)
    response = APIClient().post(REVOKE_URL, {"credentials": [plaintext]}, format="json",
                                HTTP_X_API_KEY="dp_live_wrong")
    assert response.status_code == 202
    assert hello(api_client, plaintext) == 401


@pytest.mark.parametrize(("body", "field"), [
    ({"credentials": [invented_key() for _ in range(101)]}, "credentials"),
    ({"credentials": "dp_live_x"}, "credentials"),
    ({}, "credentials"),
    ({"credentials": [], "extra": 1}, "extra"),
], ids=["101-credentials", "not-a-list", "missing", "unknown-field"])
def test_the_public_endpoint_refuses_bad_bodies(body, field):
    response = APIClient().post(REVOKE_URL, body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "VALIDATION_ERROR" and field in response.json()["details"]


def test_the_public_endpoint_takes_10_requests_a_minute_per_ip(app, make_key, api_client):
    _key, plaintext = make_key(app)
    for n in range(10):
        response = revoke([invented_key()])
        assert response.status_code == 202
        assert response["X-RateLimit-Remaining"] == str(9 - n)
    refused = revoke([plaintext])
    assert refused.status_code == 429
    assert refused.json()["code"] == "RATE_LIMITED"
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert hello(api_client, plaintext) == 200  # the refused request revoked nothing
    assert revoke([plaintext], ip="198.51.100.1").status_code == 202  # another IP has its own count
    assert hello(api_client, plaintext) == 401


def test_the_public_endpoint_revokes_an_oauth_token_too(access_token, api_client):
    _client, token = access_token
    assert revoke([token]).status_code == 202
    assert api_client(token, header="Bearer").get("/api/v1/hello").status_code == 401


def test_a_report_whose_url_holds_nul_is_stored_without_it(report, app, make_key):
    _key, plaintext = make_key(app)
    response = report([{"token": plaintext, "type": "t\x00", "url": "https://github.com/a\x00b", "source": "x"}])
    assert response.status_code == 200 and response.json()[0]["label"] == "true_positive"
    assert LeakReport.objects.get().url == "https://github.com/ab"


def test_a_leaked_key_sends_the_webhook_and_mails_its_maker_and_the_owners_without_its_secret(
        app, make_key, owner, developer, django_capture_on_commit_callbacks, settings):
    from django.core import mail

    from accounts.roles import Role
    from accounts.selectors import member_caller
    from portal.callers import Caller
    from webhooks.models import WebhookEvent
    from webhooks.services import webhook_endpoint_create

    settings.PORTAL = {**settings.PORTAL, "WEBHOOKS_ALLOW_PRIVATE": True}
    webhook_endpoint_create(caller=Caller.system(app.organization), url="http://127.0.0.1:9/hook",
                            event_types=["api_key.leaked"])
    from apikeys.services import api_key_create

    key, plaintext = api_key_create(caller=member_caller(app.organization, developer, Role.DEVELOPER),
                                    application=app, name="ci", scope_preset="READ_ONLY", environment="test")
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        assert revoke([plaintext]).status_code == 202

    (event,) = WebhookEvent.objects.filter(type="api_key.leaked")
    assert event.data["id"] == key.public_id and event.data["leak"]["via"] == "public"
    (message,) = [m for m in mail.outbox if "leaked" in m.subject]
    assert set(message.to) == {developer.email, owner.email}
    assert key.public_id in message.body and plaintext not in message.body
    assert plaintext not in json.dumps(event.data)
    assert message.alternatives and plaintext not in message.alternatives[0][0]
