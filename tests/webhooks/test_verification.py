"""Webhook endpoints need a verified e-mail address (contract section 11), in the dashboard and the API alike."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from accounts.roles import Role
from portal.callers import Caller
from tests.factories import MembershipFactory, UserFactory
from webhooks.models import WebhookEndpoint
from webhooks.services import webhook_endpoint_create

pytestmark = pytest.mark.django_db

URL = "https://hooks.example.com/portal"


@pytest.fixture
def unverified(org):
    return MembershipFactory(organization=org, role=Role.OWNER, user=UserFactory(verified=False)).user


@pytest.fixture
def endpoint(org):
    endpoint, _secret = webhook_endpoint_create(caller=Caller.system(org), url=URL, enabled=False)
    return endpoint


def _form(**data) -> dict:
    return {"url": URL, "description": "CI", "all_events": "on", "enabled": "on", **data}


def _refused_page(response) -> None:
    assert response.status_code == 403
    page = response.content.decode()
    assert "Verify your email address first" in page and "Making a webhook endpoint needs" in page
    assert "Send the link again" in page and reverse("verification-resend") in page


def test_the_dashboard_refuses_a_new_endpoint_with_the_page_that_resends_the_link(org, unverified, login):
    _refused_page(login(unverified).post("/orgs/acme/webhooks/", _form()))
    assert not WebhookEndpoint.objects.exists()


def test_the_api_refuses_a_session_and_a_test_key_of_an_unverified_person_with_forbidden(org, unverified, login, app):
    session = login(unverified)
    response = session.post("/api/v1/webhooks", {"url": URL}, content_type="application/json")
    assert response.status_code == 403
    assert response.json()["code"] == "FORBIDDEN" and "must be verified" in response.json()["error"]

    made = session.post("/api/v1/api-keys", {"name": "ci", "applicationId": app.pk, "scopePreset": "ADMIN",
                                             "environment": "test"}, content_type="application/json")
    assert made.status_code == 201
    with_key = Client().post("/api/v1/webhooks", {"url": URL}, content_type="application/json",
                             HTTP_X_API_KEY=made.json()["key"])
    assert with_key.status_code == 403 and with_key.json()["code"] == "FORBIDDEN"
    assert not WebhookEndpoint.objects.exists()


def test_an_unverified_person_can_turn_an_endpoint_off_but_not_on_or_elsewhere(org, unverified, login, endpoint):
    session = login(unverified)
    detail = f"/api/v1/webhooks/{endpoint.pk}"

    for change in ({"enabled": True}, {"url": "https://elsewhere.example.com/hook"}):
        response = session.patch(detail, change, content_type="application/json")
        assert response.status_code == 403 and response.json()["code"] == "FORBIDDEN"
    rotate = session.post(f"{detail}/rotate-secret", content_type="application/json")
    assert rotate.status_code == 403 and rotate.json()["code"] == "FORBIDDEN"
    _refused_page(session.post(f"/orgs/acme/webhooks/{endpoint.pk}/", _form()))
    endpoint.refresh_from_db()
    assert endpoint.url == URL and not endpoint.enabled

    assert session.patch(detail, {"description": "Old CI"}, content_type="application/json").status_code == 200
    assert session.delete(detail).status_code == 204
    assert not WebhookEndpoint.objects.exists()


def test_a_verified_person_makes_and_enables_endpoints(org, owner, login, endpoint):
    session = login(owner)
    page = session.post("/orgs/acme/webhooks/", _form(url="https://hooks.example.com/other"))
    assert page.status_code == 302

    made = session.post("/api/v1/webhooks", {"url": "https://hooks.example.com/third"},
                        content_type="application/json")
    assert made.status_code == 201 and made.json()["secret"].startswith("whsec_")
    enabled = session.patch(f"/api/v1/webhooks/{endpoint.pk}", {"enabled": True}, content_type="application/json")
    assert enabled.status_code == 200 and enabled.json()["enabled"] is True
    assert WebhookEndpoint.objects.filter(enabled=True).count() == 3
