"""Webhooks through the API, delivered to a real receiver on a loopback port (jobs run inline here; the tests
with a real worker process are in test_worker.py)."""

from __future__ import annotations

import json
import time

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone
from standardwebhooks import Webhook

from portal.callers import Caller
from webhooks import tasks
from webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent

pytestmark = pytest.mark.django_db


def make_key(client, app, **fields):
    response = client.post("/api/v1/api-keys", {"name": "ci", "applicationId": app.pk, "scopePreset": "READ_ONLY",
                                                **fields}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_a_new_key_is_delivered_signed_and_verifies_with_standardwebhooks(
        receiver, register, client_a, app, django_capture_on_commit_callbacks):
    endpoint, secret = register(receiver.url, description="CI")
    assert secret.startswith("whsec_")

    with django_capture_on_commit_callbacks(execute=True):
        key = make_key(client_a, app)

    (request,) = receiver.wait_for(1)
    payload = Webhook(secret).verify(request.body, request.headers)
    assert payload["type"] == "api_key.created"
    assert payload["timestamp"].endswith("Z")
    assert payload["data"]["id"] == key["id"] and payload["data"]["name"] == "ci"
    assert "key" not in payload["data"] and key["key"].encode() not in request.body
    assert request.headers["webhook-id"].startswith("msg_")
    assert abs(int(request.headers["webhook-timestamp"]) - time.time()) < 60
    assert request.headers["webhook-signature"].startswith("v1,")
    assert secret.encode() not in request.body


def test_a_failing_endpoint_is_retried_with_the_same_webhook_id_and_the_log_shows_each_attempt(
        receiver, register, client_a, app, django_capture_on_commit_callbacks):
    endpoint, secret = register(receiver.url, eventTypes=["api_key.created"])
    receiver.statuses = [500, 500]

    with django_capture_on_commit_callbacks(execute=True):
        make_key(client_a, app)
    for _ in range(2):  # the schedule of this test waits 1 s between attempts
        time.sleep(1.1)
        with django_capture_on_commit_callbacks(execute=True):
            tasks.deliver_due.delay()

    requests = receiver.wait_for(3)
    assert len({r.headers["webhook-id"] for r in requests}) == 1
    assert all(Webhook(secret).verify(r.body, r.headers) for r in requests)
    log = client_a.get(f"/api/v1/webhooks/{endpoint['id']}/deliveries").json()["results"]
    (delivery,) = log
    assert delivery["status"] == "succeeded"
    assert delivery["eventId"] == requests[0].headers["webhook-id"] and delivery["eventType"] == "api_key.created"
    assert [a["statusCode"] for a in delivery["attempts"]] == [500, 500, 200]
    assert delivery["attempts"][0]["error"] == "HTTP 500" and delivery["attempts"][2]["error"] is None
    assert len(delivery["attempts"][0]["response"]) == 1024  # the first 1 KiB of a 4000-byte answer
    assert all(isinstance(a["durationMs"], int) and a["at"] for a in delivery["attempts"])


def test_after_a_rotation_both_secrets_sign_for_a_day(receiver, register, client_a, django_capture_on_commit_callbacks):
    endpoint, old_secret = register(receiver.url)
    rotated = client_a.post(f"/api/v1/webhooks/{endpoint['id']}/rotate-secret", format="json")
    assert rotated.status_code == 201 and rotated["Cache-Control"] == "no-store"
    new_secret = rotated.json()["secret"]
    assert new_secret != old_secret and new_secret.startswith("whsec_")

    with django_capture_on_commit_callbacks(execute=True):
        tested = client_a.post(f"/api/v1/webhooks/{endpoint['id']}/test")
    assert tested.status_code == 202 and tested.json()["eventType"] == "webhook.test"

    (request,) = receiver.wait_for(1)
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    assert Webhook(new_secret).verify(request.body, request.headers)["type"] == "webhook.test"
    assert Webhook(old_secret).verify(request.body, request.headers)["type"] == "webhook.test"


def test_after_the_overlap_only_the_new_secret_signs(receiver, register, client_a, django_capture_on_commit_callbacks):
    endpoint, old_secret = register(receiver.url)
    new_secret = client_a.post(f"/api/v1/webhooks/{endpoint['id']}/rotate-secret").json()["secret"]
    WebhookEndpoint.objects.filter(pk=endpoint["id"]).update(previous_secret_until=timezone.now())

    with django_capture_on_commit_callbacks(execute=True):
        client_a.post(f"/api/v1/webhooks/{endpoint['id']}/test")

    (request,) = receiver.wait_for(1)
    assert len(request.headers["webhook-signature"].split(" ")) == 1
    Webhook(new_secret).verify(request.body, request.headers)
    with pytest.raises(Exception, match="signature"):
        Webhook(old_secret).verify(request.body, request.headers)


def test_a_delivery_is_resent_from_the_log_with_its_webhook_id(
        receiver, register, client_a, app, django_capture_on_commit_callbacks):
    endpoint, secret = register(receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        make_key(client_a, app)
    (delivery,) = client_a.get(f"/api/v1/webhooks/{endpoint['id']}/deliveries").json()["results"]

    with django_capture_on_commit_callbacks(execute=True):
        resent = client_a.post(f"/api/v1/webhooks/{endpoint['id']}/deliveries/{delivery['id']}/retry")

    assert resent.status_code == 202
    first, second = receiver.wait_for(2)
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == delivery["eventId"]
    assert first.body == second.body
    log = client_a.get(f"/api/v1/webhooks/{endpoint['id']}/deliveries").json()["results"]
    assert len(log[0]["attempts"]) == 2


@pytest.mark.parametrize("url", [
    "http://127.0.0.1/hook", "https://127.0.0.1/hook", "http://169.254.169.254/latest/meta-data/",
    "https://169.254.169.254/", "http://10.0.0.1/hook", "https://10.0.0.1/hook", "https://192.168.1.10/",
    "https://[::1]/hook", "https://[::ffff:127.0.0.1]/hook", "https://localhost/hook", "https://localhost:8443/x",
    "http://localhost/hook", "https://0.0.0.0/", "https://100.64.0.1/",
])
def test_internal_targets_are_refused_at_registration(client_a, url):
    response = client_a.post("/api/v1/webhooks", {"url": url}, format="json")

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "VALIDATION_ERROR" and body["details"]["url"]
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize(("url", "message"), [
    ("ftp://example.com/hook", "https"),
    ("https://user:pass@example.com/hook", "credentials"),
    ("https://example.com/hook#part", "fragment"),
    ("not a url", "https"),
])
def test_malformed_urls_are_refused(client_a, url, message):
    response = client_a.post("/api/v1/webhooks", {"url": url}, format="json")
    assert response.status_code == 400 and message in json.dumps(response.json()["details"]["url"])


def test_a_name_resolving_to_loopback_is_refused_even_when_registered_earlier(
        receiver, register, client_a, app, settings, django_capture_on_commit_callbacks):
    """DNS rebinding: the host is resolved again at each delivery, and a private answer is refused then too."""
    endpoint, _secret = register(receiver.url.replace("127.0.0.1", "localhost"))
    settings.PORTAL = {**settings.PORTAL, "WEBHOOKS_ALLOW_PRIVATE": False}

    with django_capture_on_commit_callbacks(execute=True):
        make_key(client_a, app)

    time.sleep(0.3)
    assert receiver.requests == []
    (delivery,) = client_a.get(f"/api/v1/webhooks/{endpoint['id']}/deliveries").json()["results"]
    assert delivery["attempts"][0]["statusCode"] is None
    assert delivery["attempts"][0]["error"].startswith("Refused")


def test_redirects_are_not_followed(allow_private, register, client_a, app, django_capture_on_commit_callbacks):
    from tests.receiver import start_receiver

    target, target_server = start_receiver()
    redirector, redirect_server = start_receiver()
    redirector.statuses = [307]
    try:
        endpoint, _ = register(redirector.url)
        with django_capture_on_commit_callbacks(execute=True):
            make_key(client_a, app)
        redirector.wait_for(1)
        time.sleep(0.2)
        assert target.requests == []
        (delivery,) = client_a.get(f"/api/v1/webhooks/{endpoint['id']}/deliveries").json()["results"]
        assert delivery["attempts"][0]["statusCode"] == 307 and delivery["status"] == "pending"
    finally:
        for server in (target_server, redirect_server):
            server.shutdown()
            server.server_close()


def test_event_types_filter_and_unknown_types_are_refused(receiver, register, client_a, app,
                                                          django_capture_on_commit_callbacks):
    refused = client_a.post("/api/v1/webhooks", {"url": receiver.url, "eventTypes": ["api_key.exploded"]},
                            format="json")
    assert refused.status_code == 400 and "eventTypes" in refused.json()["details"]
    register(receiver.url, eventTypes=["api_key.revoked"])

    with django_capture_on_commit_callbacks(execute=True):
        key = make_key(client_a, app)
        assert client_a.delete(f"/api/v1/api-keys/{key['id']}").status_code == 204

    (request,) = receiver.wait_for(1)
    assert json.loads(request.body)["type"] == "api_key.revoked"
    assert json.loads(request.body)["data"]["status"] == "revoked"


def test_a_change_that_rolls_back_sends_nothing(receiver, register, app, make_key, django_capture_on_commit_callbacks):
    register(receiver.url)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        with transaction.atomic():
            make_key(app, "READ_ONLY")
            raise RuntimeError("the change fails after the event was recorded")

    assert not WebhookEvent.objects.filter(type="api_key.created").exists()
    assert not WebhookDelivery.objects.exists()
    time.sleep(0.2)
    assert receiver.requests == []


def test_jobs_carry_ids_and_no_secret(receiver, register, client_a, app, monkeypatch,
                                      django_capture_on_commit_callbacks):
    endpoint, secret = register(receiver.url)
    sent = []
    original = tasks.deliver.apply_async
    monkeypatch.setattr(tasks.deliver, "apply_async", lambda args, **kw: (sent.append(args), original(args, **kw)))

    with django_capture_on_commit_callbacks(execute=True):
        key = make_key(client_a, app)

    assert sent and all(isinstance(arg, int) for args in sent for arg in args)
    stored = json.dumps(list(WebhookEvent.objects.values("data")))
    assert key["key"] not in stored and secret not in stored
    assert secret not in WebhookEndpoint.objects.get().secret_encrypted


def test_the_secret_is_shown_only_when_made(receiver, register, client_a):
    endpoint, secret = register(receiver.url)
    listed = client_a.get("/api/v1/webhooks").json()["results"]
    fetched = client_a.get(f"/api/v1/webhooks/{endpoint['id']}").json()
    assert secret not in json.dumps(listed) and "secret" not in fetched
    assert fetched["eventTypes"] == ["*"] and fetched["enabled"] is True


def test_patch_and_delete(receiver, register, client_a):
    endpoint, _ = register(receiver.url)
    changed = client_a.patch(f"/api/v1/webhooks/{endpoint['id']}", {"enabled": False, "description": "off"},
                             format="json")
    assert changed.status_code == 200 and changed.json()["enabled"] is False
    assert client_a.patch(f"/api/v1/webhooks/{endpoint['id']}", {"secret": "x"}, format="json").status_code == 400
    assert client_a.delete(f"/api/v1/webhooks/{endpoint['id']}").status_code == 204
    assert client_a.get(f"/api/v1/webhooks/{endpoint['id']}").status_code == 404


def test_scopes_and_tenancy(receiver, register, api_client, app, other_app, make_key):
    endpoint, _ = register(receiver.url)
    _, read_only = make_key(app, "READ_ONLY")
    reader = api_client(read_only)
    assert reader.get("/api/v1/webhooks").status_code == 200
    refused = reader.post("/api/v1/webhooks", {"url": receiver.url}, format="json")
    assert refused.status_code == 403 and refused.json()["requiredScopes"] == ["webhooks:write"]
    _, foreign = make_key(other_app, "ADMIN")
    outsider = api_client(foreign)
    assert outsider.get(f"/api/v1/webhooks/{endpoint['id']}").status_code == 404
    assert outsider.post(f"/api/v1/webhooks/{endpoint['id']}/test").status_code == 404
    assert outsider.get(f"/api/v1/webhooks/{endpoint['id']}/deliveries").status_code == 404
    assert outsider.get("/api/v1/webhooks").json()["results"] == []


def test_the_first_429_of_a_key_in_an_hour_is_an_event(receiver, register, client_a, api_client, app, make_key,
                                                       django_capture_on_commit_callbacks):
    register(receiver.url, eventTypes=["rate_limit.exceeded"])
    key, plaintext = make_key(app, "READ_ONLY", rate_limit_per_minute=1)
    client = api_client(plaintext)

    with django_capture_on_commit_callbacks(execute=True):
        codes = [client.get("/api/v1/hello").status_code for _ in range(4)]

    assert codes == [200, 429, 429, 429]
    (request,) = receiver.wait_for(1)
    payload = json.loads(request.body)
    assert payload["type"] == "rate_limit.exceeded"
    assert payload["data"]["apiKeyId"] == key.public_id and payload["data"]["limit"] == 1
    assert payload["data"]["resetAt"].endswith("Z")
    assert plaintext.encode() not in request.body


def test_an_endpoint_failing_for_five_days_is_disabled_and_the_owners_are_mailed(
        receiver, register, client_a, app, owner, django_capture_on_commit_callbacks):
    endpoint, _ = register(receiver.url)
    WebhookEndpoint.objects.filter(pk=endpoint["id"]).update(
        failing_since=timezone.now() - timezone.timedelta(days=5, seconds=1))
    receiver.statuses = [500]

    with django_capture_on_commit_callbacks(execute=True):
        make_key(client_a, app)

    receiver.wait_for(1)
    assert client_a.get(f"/api/v1/webhooks/{endpoint['id']}").json()["enabled"] is False
    (message,) = [m for m in mail.outbox if "disabled" in m.subject]
    assert message.to == [owner.email]
    assert "Acme" in message.body and receiver.url in message.body
    assert f"/orgs/acme/webhooks/{endpoint['id']}/" in message.body
    assert message.alternatives and message.alternatives[0][1] == "text/html"


def test_member_and_client_events_carry_the_api_shape(receiver, register, org, app, make_client,
                                                      django_capture_on_commit_callbacks):
    from accounts.memberships.services import membership_remove
    from tests.factories import MembershipFactory

    register(receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        client, client_secret = make_client(app)
        membership = MembershipFactory(organization=org, role="developer")
        membership_remove(caller=Caller.system(org), membership=membership)

    types = [json.loads(r.body)["type"] for r in receiver.wait_for(2)]
    assert types == ["oauth_client.created", "member.removed"]
    created, removed = (json.loads(r.body)["data"] for r in receiver.requests)
    assert created["clientId"] == client.client_id and "clientSecret" not in created
    assert client_secret not in json.dumps(created)
    assert removed["user"]["email"] == membership.user.email and removed["role"] == "developer"


def test_a_system_caller_can_send_a_test_event(receiver, register, org, django_capture_on_commit_callbacks):
    from webhooks.services import webhook_endpoint_send_test

    endpoint, _ = register(receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        webhook_endpoint_send_test(caller=Caller.system(org), endpoint=WebhookEndpoint.objects.get())
    assert json.loads(receiver.wait_for(1)[0].body)["data"]["endpointId"] == endpoint["id"]
