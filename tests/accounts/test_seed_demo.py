"""``seed_demo`` (contract section 10): the demo organization holds an application with a ``test`` key, some usage
(counts in the charts, rows in the request log) and a webhook endpoint that is turned off; a second run adds
nothing, and no secret but the demo login's password (the first time) is printed."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from apikeys.models import ApiKey
from applications.models import Application
from audit.models import AuditEvent
from tests.accounts.test_commands import run
from usage.models import RequestLog, UsageCount
from webhooks.models import WebhookEndpoint

pytestmark = pytest.mark.django_db

KEY_SHAPED = re.compile(r"[a-z][a-z0-9]*_(?:live|test)_[0-9A-Za-z]{13,}")


def _tables() -> tuple[int, ...]:
    return (Application.objects.count(), ApiKey.objects.count(), UsageCount.objects.count(),
            RequestLog.objects.count(), WebhookEndpoint.objects.count(), AuditEvent.objects.count())


def test_the_demo_organization_holds_an_application_a_test_key_usage_and_a_webhook_turned_off():
    text, values = run("seed_demo")

    (application,) = Application.objects.filter(organization__slug="demo")
    (key,) = ApiKey.objects.filter(application=application)
    assert key.environment == ApiKey.Environment.TEST and key.revoked_at is None
    assert sum(UsageCount.objects.filter(api_key=key, granularity="hour").values_list("success", flat=True)) > 100
    assert RequestLog.objects.filter(api_key=key).count() >= 20
    (endpoint,) = WebhookEndpoint.objects.filter(organization__slug="demo")
    assert endpoint.enabled is False
    assert not KEY_SHAPED.search(text) and "whsec_" not in text

    client = Client()
    assert client.post("/accounts/login/", {"login": values["email"], "password": values["password"]}
                       ).status_code == 302
    assert "/api/v1/hello" in client.get("/orgs/demo/requests/").content.decode()
    assert application.name in client.get("/orgs/demo/").content.decode()
    key_page = client.get(f"/orgs/demo/keys/{key.public_id}/")
    assert key_page.status_code == 200 and key.name in key_page.content.decode()
    assert endpoint.url in client.get("/orgs/demo/webhooks/").content.decode()


def test_running_it_twice_adds_nothing_and_prints_no_secret():
    run("seed_demo")
    before = _tables()

    text, values = run("seed_demo")

    assert _tables() == before
    assert "password" not in values and not KEY_SHAPED.search(text)
