"""The getting-started panel of the organization overview: three steps to a first API call, each marked done
as the person does it, all through HTTP as a newcomer would."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import Organization

pytestmark = pytest.mark.django_db

STEPS = ("application", "key", "call")
PASSWORD = "a-much-longer-passphrase-42"


def _done_steps(body: str) -> set[str]:
    return set(re.findall(r'class="step step-done" data-step="(\w+)"', body))


def _overview(client: Client, slug: str) -> str:
    response = client.get(reverse("org-overview", args=[slug]))
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def newcomer() -> tuple[Client, str]:
    """A person who has just signed up, and the slug of their personal organization."""
    client = Client()
    client.post(reverse("signup"), {"email": "new@example.com", "full_name": "Newcomer",
                                    "password1": PASSWORD, "password2": PASSWORD})
    return client, Organization.objects.get(memberships__user__email="new@example.com").slug


def test_steps_are_marked_done_one_by_one_until_the_first_call(newcomer, settings) -> None:
    client, slug = newcomer

    body = client.get(reverse("dashboard")).content.decode()
    assert _done_steps(body) == set()
    assert "0 of 3 done" in body
    assert reverse("app-list", args=[slug]) in body
    assert 'curl "http://localhost:8000/api/v1/hello?name=Test"' in body
    assert "X-API-Key: YOUR_API_KEY" in body
    assert 'href="/api/docs"' in body

    response = client.post(reverse("app-list", args=[slug]), {"name": "First app"})
    app_url = response["Location"]
    app_id = int(app_url.rstrip("/").rsplit("/", 1)[1])
    body = _overview(client, slug)
    assert _done_steps(body) == {"application"}
    assert reverse("key-create", args=[slug, app_id]) in body

    response = client.post(reverse("key-create", args=[slug, app_id]), {
        "name": "first key", "scope_preset": "READ_ONLY", "expires_in_days": "30", "environment": "test",
    }, follow=True)
    key = re.search(r'id="new-key" type="text" class="mono" value="([^"]+)"', response.content.decode()).group(1)
    body = _overview(client, slug)
    assert _done_steps(body) == {"application", "key"}
    assert "2 of 3 done" in body

    api = APIClient()
    api.credentials(HTTP_X_API_KEY=key)
    assert api.get("/api/v1/hello", {"name": "Test"}).json() == {"message": "Hello Test!"}

    body = _overview(client, slug)
    assert _done_steps(body) == set(STEPS)
    assert "You're all set" in body


def test_a_failed_call_does_not_count_as_the_first_call(newcomer) -> None:
    client, slug = newcomer
    client.post(reverse("app-list", args=[slug]), {"name": "First app"})

    APIClient().get("/api/v1/hello", HTTP_X_API_KEY="dp_live_not-a-real-key")

    assert "call" not in _done_steps(_overview(client, slug))


def test_the_overview_runs_the_same_number_of_queries_however_far_the_org_is(org, owner, login, app, make_key,
                                                                             api_client) -> None:
    client = login(owner)
    org.applications.all().delete()
    with CaptureQueriesContext(connection) as empty:
        _overview(client, org.slug)

    for index in range(3):
        application = org.applications.create(name=f"app {index}")
        for _ in range(2):
            _key, plaintext = make_key(application)
            api_client(plaintext).get("/api/v1/hello")
    with CaptureQueriesContext(connection) as busy:
        body = _overview(client, org.slug)

    assert _done_steps(body) == set(STEPS)
    assert len(busy) == len(empty)
