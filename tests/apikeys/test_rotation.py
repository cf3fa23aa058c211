"""Rotation and revocation always leave a way forward: a key whose replacement failed can be rotated again, kept
as it was, or revoked now; a replacement is named "<name> (rotated <date>)" unless the person names it."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from apikeys.models import ApiKey
from apikeys.services import rotated_name
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db

HELLO = "/api/v1/hello?name=Test"


def _hello(api_client, key: str) -> int:
    return api_client(key).get(HELLO).status_code


def _rotate(client, org, key, **data):
    """Rotate over HTTP; return the new key's plaintext read from the show-once page, and the new key."""
    response = client.post(reverse("key-rotate", args=[org.slug, key.public_id]),
                           {"grace_period_hours": "24", **data})
    assert response.status_code == 302, response.content.decode()
    page = client.get(response["Location"])
    plaintext = page.context["secret"]["key"]
    return plaintext, ApiKey.objects.get(public_id=page.context["secret"]["public_id"])


def _key_page(client, org, key) -> str:
    response = client.get(reverse("key-detail", args=[org.slug, key.public_id]))
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def dead_end(org, developer, login, app, make_key):
    """A key rotated with a 24-hour grace whose replacement was then revoked: the state that used to be a dead
    end. Returns ``(client, old key, its plaintext, the revoked replacement)``."""
    old, old_plaintext = make_key(app, "STANDARD", name="worker", expires_in_days=30)
    client = login(developer)
    _, replacement = _rotate(client, org, old)
    assert client.post(reverse("key-revoke", args=[org.slug, replacement.public_id])).status_code == 302
    old.refresh_from_db()
    return client, old, old_plaintext, replacement


# --- Names ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "expected"), [
    ("worker", "worker (rotated 2026-12-02)"),
    ("worker (rotated 2026-12-01)", "worker (rotated 2026-12-02)"),
    ("worker (rotated 2026-11-01) (rotated 2026-12-01)", "worker (rotated 2026-12-02)"),
    ("worker (rotated soon)", "worker (rotated soon) (rotated 2026-12-02)"),
    ("x" * 120, "x" * 99 + " (rotated 2026-12-02)"),
])
def test_a_replacement_is_named_after_the_base_name_and_the_day(name, expected) -> None:
    assert rotated_name(name, date(2026, 12, 2)) == expected
    assert len(rotated_name(name, date(2026, 12, 2))) <= 120


def test_rotating_a_replacement_again_does_not_pile_up_suffixes(org, developer, login, app, make_key) -> None:
    old, _ = make_key(app, "STANDARD", name="worker")
    client = login(developer)
    _, first = _rotate(client, org, old)
    _, second = _rotate(client, org, first)
    today = timezone.now().date().isoformat()
    assert first.name == second.name == f"worker (rotated {today})"


def test_the_rotate_form_takes_an_optional_name(org, developer, login, app, make_key) -> None:
    old, _ = make_key(app, "STANDARD", name="worker")
    client = login(developer)
    form_page = client.get(reverse("key-rotate", args=[org.slug, old.public_id])).content.decode()
    assert "Name of the new key (optional)" in form_page
    assert f"worker (rotated {timezone.now().date().isoformat()})" in form_page  # the default, said in the help

    _, new_key = _rotate(client, org, old, name="  worker, December  ")
    assert new_key.name == "worker, December"
    assert AuditEvent.objects.get(action="api_key.rotated").metadata["newName"] == "worker, December"


def test_a_name_too_long_is_a_form_error(org, developer, login, app, make_key) -> None:
    old, _ = make_key(app, "STANDARD")
    response = login(developer).post(reverse("key-rotate", args=[org.slug, old.public_id]),
                                     {"grace_period_hours": "24", "name": "x" * 121})
    assert response.status_code == 400 and response.context["form"].errors["name"]
    assert ApiKey.objects.count() == 1


def test_the_api_takes_an_optional_name(client_a, app, make_key) -> None:
    key, _ = make_key(app, name="worker")
    url = f"/api/v1/api-keys/{key.public_id}/rotate"
    named = client_a.post(url, {"name": " billing 2 "}, format="json")
    assert named.status_code == 201 and named.json()["name"] == "billing 2"

    other, _ = make_key(app, name="worker")
    unnamed = client_a.post(f"/api/v1/api-keys/{other.public_id}/rotate", {"name": None}, format="json")
    assert unnamed.status_code == 201
    assert unnamed.json()["name"] == f"worker (rotated {timezone.now().date().isoformat()})"


@pytest.mark.parametrize("name", ["", "   ", "x" * 121, ["a"], {"a": 1}])
def test_the_api_refuses_a_bad_name(client_a, app, make_key, name) -> None:
    key, _ = make_key(app)
    response = client_a.post(f"/api/v1/api-keys/{key.public_id}/rotate", {"name": name}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "VALIDATION_ERROR" and "name" in response.json()["details"]
    assert ApiKey.objects.count() == 2  # the caller's own key and this one: no replacement


def test_the_schema_documents_the_name(client) -> None:
    schema = client.get("/api/schema?format=json").json()
    body = schema["paths"]["/api/v1/api-keys/{key_id}/rotate"]["post"]["requestBody"]["content"]["application/json"]
    fields = schema["components"]["schemas"][body["schema"]["$ref"].rsplit("/", 1)[1]]["properties"]
    assert "rotated YYYY-MM-DD" in fields["name"]["description"] and fields["name"]["maxLength"] == 120


# --- The dead end is gone ------------------------------------------------------------------------------------


def test_a_key_whose_replacement_was_revoked_offers_three_ways_forward(org, dead_end) -> None:
    client, old, _, replacement = dead_end
    assert old.status == "rotating"
    html = _key_page(client, org, old)
    assert "was revoked" in html and replacement.public_id in html
    assert reverse("key-rotate", args=[org.slug, old.public_id]) in html and "Rotate again" in html
    assert reverse("key-keep", args=[org.slug, old.public_id]) in html and "Keep this key" in html
    assert reverse("key-revoke", args=[org.slug, old.public_id]) in html and "Revoke now" in html

    listing = client.get(reverse("app-detail", args=[org.slug, old.application_id])).content.decode()
    assert "Rotate again" in listing and "(revoked)" in listing


def test_rotate_again_makes_a_new_replacement_and_restarts_the_grace(org, dead_end, api_client) -> None:
    client, old, old_plaintext, failed = dead_end
    expiry_before = old.expires_at_before_rotation
    new_plaintext, new_key = _rotate(client, org, old, grace_period_hours="1")

    old.refresh_from_db()
    assert old.replaced_by == new_key and old.status == "rotating"
    assert abs((old.expires_at - (timezone.now() + timedelta(hours=1))).total_seconds()) < 10
    assert abs((new_key.expires_at - (timezone.now() + (expiry_before - old.created_at))).total_seconds()) < 10
    assert _hello(api_client, new_plaintext) == 200 and _hello(api_client, old_plaintext) == 200
    event = AuditEvent.objects.filter(action="api_key.rotated", target_id=str(old.pk)).first()
    assert event.metadata["newPublicId"] == new_key.public_id
    assert event.metadata["failedReplacementId"] == failed.public_id
    assert "Rotate again" not in _key_page(client, org, old)


def test_keep_asks_first_then_puts_the_key_back_as_it_was(org, developer, dead_end, api_client) -> None:
    client, old, old_plaintext, failed = dead_end
    expiry_before = old.expires_at_before_rotation
    url = reverse("key-keep", args=[org.slug, old.public_id])

    confirm = client.get(url)
    assert confirm.status_code == 200 and "Keep this key" in confirm.content.decode()
    assert 'method="post"' in confirm.content.decode() and "csrfmiddlewaretoken" in confirm.content.decode()
    old.refresh_from_db()
    assert old.status == "rotating"

    response = client.post(url, follow=True)
    assert response.redirect_chain[-1][0] == reverse("key-detail", args=[org.slug, old.public_id])
    assert "works as before" in response.content.decode()
    old.refresh_from_db()
    assert old.status == "active" and old.expires_at == expiry_before
    assert old.rotated_at is None and old.replaced_by is None
    assert _hello(api_client, old_plaintext) == 200
    event = AuditEvent.objects.get(action="api_key.rotation_cancelled")
    assert event.actor_user == developer and event.metadata["failedReplacementId"] == failed.public_id
    assert "Rotate" in _key_page(client, org, old)  # and it can be rotated afresh


def test_revoke_now_stops_the_old_key(org, dead_end, api_client) -> None:
    client, old, old_plaintext, _ = dead_end
    assert client.post(reverse("key-revoke", args=[org.slug, old.public_id])).status_code == 302
    old.refresh_from_db()
    assert old.status == "revoked" and _hello(api_client, old_plaintext) == 401
    html = _key_page(client, org, old)
    assert "can no longer be used" in html and reverse("key-create", args=[org.slug, old.application_id]) in html


def test_keep_is_refused_while_the_replacement_works(org, developer, login, app, make_key) -> None:
    old, _ = make_key(app, "STANDARD")
    client = login(developer)
    _, replacement = _rotate(client, org, old)
    old.refresh_from_db()
    html = _key_page(client, org, old)
    assert "Keep this key" not in html and "Revoke now" in html and replacement.public_id in html

    response = client.post(reverse("key-keep", args=[org.slug, old.public_id]), follow=True)
    assert "can be kept" in response.content.decode()
    old.refresh_from_db()
    assert old.status == "rotating" and old.replaced_by == replacement
    assert not AuditEvent.objects.filter(action="api_key.rotation_cancelled").exists()


def test_rotating_a_key_whose_replacement_works_is_refused(org, developer, login, app, make_key) -> None:
    old, _ = make_key(app, "STANDARD")
    client = login(developer)
    _, replacement = _rotate(client, org, old)
    url = reverse("key-rotate", args=[org.slug, old.public_id])
    assert "rotate that one instead" in client.get(url).content.decode()
    assert client.post(url, {"grace_period_hours": "24"}).status_code == 400
    assert ApiKey.objects.count() == 2


def test_the_api_rotates_again_after_the_replacement_was_revoked(client_a, app, make_key) -> None:
    key, _ = make_key(app)
    first = client_a.post(f"/api/v1/api-keys/{key.public_id}/rotate", {}, format="json").json()
    assert client_a.delete(f"/api/v1/api-keys/{first['id']}").status_code == 204
    again = client_a.post(f"/api/v1/api-keys/{key.public_id}/rotate", {"gracePeriodHours": 1}, format="json")
    assert again.status_code == 201 and again.json()["rotatedKeyId"] == key.public_id
    assert client_a.get(f"/api/v1/api-keys/{key.public_id}").json()["replacedBy"] == again.json()["id"]


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_viewer_and_an_outsider_cannot_keep_a_key(org, dead_end, viewer, outsider, login, method) -> None:
    _, old, _, _ = dead_end
    url = reverse("key-keep", args=[org.slug, old.public_id])
    assert getattr(login(viewer), method)(url).status_code == 403
    assert getattr(login(outsider), method)(url).status_code == 404
    old.refresh_from_db()
    assert old.status == "rotating"


def test_an_expired_key_cannot_be_kept(org, dead_end) -> None:
    client, old, _, _ = dead_end
    ApiKey.objects.filter(pk=old.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    client.post(reverse("key-keep", args=[org.slug, old.public_id]))
    old.refresh_from_db()
    assert old.status == "expired" and old.rotated_at is not None
