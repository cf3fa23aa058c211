"""Webhooks and mails through a real Celery worker process (with beat), on a real receiver on loopback."""

from __future__ import annotations

import json
import time

import pytest
from standardwebhooks import Webhook

from tests.jobs import celery_worker_process, needs_a_shared_database  # noqa: F401 (the fixture)
from webhooks.models import WebhookDelivery

pytestmark = [needs_a_shared_database, pytest.mark.django_db(transaction=True)]


def make_key(client, app) -> dict:
    response = client.post("/api/v1/api-keys", {"name": "ci", "applicationId": app.pk, "scopePreset": "READ_ONLY"},
                           format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_the_worker_delivers_a_signed_event_and_retries_with_the_same_webhook_id(
        celery_worker_process, receiver, register, client_a, app):  # noqa: F811
    celery_worker_process()
    endpoint, secret = register(receiver.url)
    receiver.statuses = [500, 500]

    key = make_key(client_a, app)

    requests = receiver.wait_for(3, timeout=60)
    assert len({r.headers["webhook-id"] for r in requests}) == 1
    payloads = [Webhook(secret).verify(r.body, r.headers) for r in requests]
    assert {p["type"] for p in payloads} == {"api_key.created"} and payloads[0]["data"]["id"] == key["id"]
    deadline = time.monotonic() + 10
    while WebhookDelivery.objects.get().status != "succeeded" and time.monotonic() < deadline:
        time.sleep(0.2)
    (delivery,) = client_a.get(f"/api/v1/webhooks/{endpoint['id']}/deliveries").json()["results"]
    assert delivery["status"] == "succeeded" and [a["statusCode"] for a in delivery["attempts"]] == [500, 500, 200]


def test_a_worker_killed_while_delivering_loses_nothing(celery_worker_process, receiver, register, client_a, app):  # noqa: F811
    env = {"PORTAL_WEBHOOK_TIMEOUT_SECONDS": "2"}  # the worker holds a delivery 7 s (timeout + 5) before the sweep
    first = celery_worker_process(**env)
    endpoint, secret = register(receiver.url)
    receiver.hold_seconds = 1.5  # the first request is still open when the worker dies

    make_key(client_a, app)
    deadline = time.monotonic() + 30
    while not receiver.arrived and time.monotonic() < deadline:
        time.sleep(0.05)
    assert receiver.arrived, "the worker never started the delivery"
    first.kill()
    assert WebhookDelivery.objects.get().status == "pending"

    celery_worker_process(**env)

    deadline = time.monotonic() + 60
    while WebhookDelivery.objects.get().status != "succeeded" and time.monotonic() < deadline:
        time.sleep(0.2)
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "succeeded"
    answered = [r for r in receiver.requests if r.headers["webhook-id"] == delivery.event.event_id]
    assert answered and Webhook(secret).verify(answered[-1].body, answered[-1].headers)["type"] == "api_key.created"


def test_the_worker_sends_the_invitation_mail(celery_worker_process, client_a, owner, tmp_path):  # noqa: F811
    celery_worker_process()
    response = client_a.post("/api/v1/invitations", {"email": "grace@example.com", "role": "developer"},
                             format="json")
    assert response.status_code == 201

    deadline = time.monotonic() + 60
    files: list = []
    while not files and time.monotonic() < deadline:
        files = list((tmp_path / "mails").glob("*.log")) if (tmp_path / "mails").exists() else []
        time.sleep(0.2)
    time.sleep(0.5)  # the file-based backend writes the whole mail before it closes the file
    assert files, "no mail was sent"
    text = "".join(path.read_text() for path in files)
    assert "grace@example.com" in text and "/invitations/" in text and "Acme" in text
    assert "text/html" in text
    assert json.dumps(response.json()).find("/invitations/") == -1
