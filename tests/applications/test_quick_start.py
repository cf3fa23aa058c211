"""The first call in two actions: right after sign-up the overview's one button makes the Default application
and a test READ_ONLY key and opens its show-once page; a paste of its snippet reaches GET /api/v1/hello."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import Organization
from apikeys.models import ApiKey
from applications.models import Application
from audit.models import AuditEvent
from portal import scopes as scope_registry
from tests.factories import ApplicationFactory

pytestmark = pytest.mark.django_db

PASSWORD = "a-much-longer-passphrase-42"
BUTTON = "Make a test key and try it"


@pytest.fixture
def newcomer() -> tuple[Client, Organization]:
    """A person who has just signed up (address not verified yet), and their personal organization."""
    client = Client()
    client.post(reverse("signup"), {"email": "new@example.com", "password1": PASSWORD, "password2": PASSWORD})
    return client, Organization.objects.get(memberships__user__email="new@example.com")


def test_one_button_makes_the_default_application_and_a_test_key_and_shows_it_once(newcomer) -> None:
    client, org = newcomer
    overview = client.get(reverse("dashboard")).content.decode()
    assert BUTTON in overview and reverse("quick-start", args=[org.slug]) in overview
    assert "Make an application" in overview  # the step-by-step path stays

    response = client.post(reverse("quick-start", args=[org.slug]))

    assert response.status_code == 302 and response["Location"] == reverse("key-created", args=[org.slug])
    page = client.get(response["Location"])
    plaintext = page.context["secret"]["key"]
    html = page.content.decode()
    assert plaintext.startswith("dp_test_") and f'-H "X-API-Key: {plaintext}"' in html
    assert "no-store" in page["Cache-Control"]
    key = ApiKey.objects.get(organization=org)
    assert key.environment == "test" and key.scopes == scope_registry.presets()["READ_ONLY"]
    assert key.application.name == "Default" and key.created_by.email == "new@example.com"
    assert key.expires_at is not None
    hello = APIClient().get("/api/v1/hello?name=Test", HTTP_X_API_KEY=plaintext)
    assert hello.status_code == 200 and hello.json() == {"message": "Hello Test!"}
    actions = set(AuditEvent.objects.filter(organization=org, actor_user=key.created_by).values_list("action",
                                                                                                     flat=True))
    assert {"application.created", "api_key.created"} <= actions
    assert BUTTON not in client.get(reverse("dashboard")).content.decode()  # done: the button has gone


def test_an_existing_default_application_is_reused(newcomer) -> None:
    client, org = newcomer
    default = ApplicationFactory(organization=org, name="Default")
    assert client.post(reverse("quick-start", args=[org.slug])).status_code == 302
    assert Application.objects.filter(organization=org).count() == 1
    assert ApiKey.objects.get(organization=org).application == default


def test_a_viewer_is_not_offered_the_button_and_cannot_post_it(org, viewer, login) -> None:
    client = login(viewer)
    assert BUTTON not in client.get(reverse("org-overview", args=[org.slug])).content.decode()
    assert client.post(reverse("quick-start", args=[org.slug])).status_code == 403
    assert not Application.objects.filter(organization=org).exists() and not ApiKey.objects.exists()


def test_an_outsider_gets_a_404_and_a_get_is_refused(org, outsider, developer, login) -> None:
    assert login(outsider).post(reverse("quick-start", args=[org.slug])).status_code == 404
    assert login(developer).get(reverse("quick-start", args=[org.slug])).status_code == 405
    assert not ApiKey.objects.exists()


def test_the_button_needs_the_csrf_token(newcomer) -> None:
    _, org = newcomer
    client = Client(enforce_csrf_checks=True)
    client.force_login(org.memberships.get().user)
    assert client.post(reverse("quick-start", args=[org.slug])).status_code == 403
    assert not ApiKey.objects.exists()
