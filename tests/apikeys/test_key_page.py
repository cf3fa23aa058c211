"""A key's own page: everything it holds but its secret, and its history (created, rotated, revoked, by whom)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from apikeys.models import ApiKey

pytestmark = pytest.mark.django_db


def _text(html: str) -> str:
    """The page's text, tags dropped and spaces squeezed, as a reader sees it."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _make_through_the_form(client, org, app) -> tuple[ApiKey, str]:
    response = client.post(reverse("key-create", args=[org.slug, app.pk]), {
        "name": "Billing worker", "scope_preset": "READ_ONLY", "expires_in_days": "30", "environment": "test",
        "rate_limit_per_minute": "120", "allowed_ips": "203.0.113.0/24\n2001:db8::/32",
    })
    assert response.status_code == 302, response.content.decode()
    plaintext = client.get(response["Location"]).context["secret"]["key"]
    return ApiKey.objects.get(name="Billing worker"), plaintext


def test_the_key_page_shows_everything_the_key_holds_but_its_secret(org, developer, viewer, login, app) -> None:
    key, plaintext = _make_through_the_form(login(developer), org, app)
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=timezone.now() - timedelta(minutes=5))
    key.refresh_from_db()

    response = login(viewer).get(reverse("key-detail", args=[org.slug, key.public_id]))

    assert response.status_code == 200
    html = response.content.decode()
    text = _text(html)
    assert plaintext not in html and plaintext[-20:] not in html
    for label, value in [
        ("Name", "Billing worker"), ("Status", "Active"), ("ID", key.public_id), ("Application", "Billing sync"),
        ("Environment", "Test"), ("Rate limit", "120 requests a minute"), ("Created by", developer.email),
        ("Created", f"{key.created_at:%Y-%m-%d %H:%M} UTC"), ("Last used", f"{key.last_used_at:%Y-%m-%d %H:%M} UTC"),
        ("Expires", f"{key.expires_at:%Y-%m-%d %H:%M} UTC"),
    ]:
        assert f"{label} {value}" in text, label
    for scope in key.scopes:
        assert scope in text
    assert "203.0.113.0/24" in text and "2001:db8::/32" in text
    assert "Rotate" not in text and "Revoke" not in text  # a viewer reads, nothing more


def test_the_history_says_who_made_rotated_and_revoked_the_key(org, developer, owner, login, app) -> None:
    key, _ = _make_through_the_form(login(developer), org, app)
    assert login(developer).post(reverse("key-rotate", args=[org.slug, key.public_id]),
                                 {"grace_period_hours": "24"}).status_code == 302
    key.refresh_from_db()
    replacement = key.replaced_by
    assert login(owner).post(reverse("key-revoke", args=[org.slug, key.public_id])).status_code == 302

    text = _text(login(owner).get(reverse("key-detail", args=[org.slug, key.public_id])).content.decode())
    history = text[text.index("History"):]
    assert f"Revoked · by {owner.email}" in history
    assert f"Rotated: replaced by {replacement.public_id}" in history and f"by {developer.email}" in history
    assert f"Created · by {developer.email}" in history
    assert history.index("Revoked") < history.index("Rotated:") < history.index("Created ·")  # newest first
    assert f"Replaced by {replacement.name} {replacement.public_id} Active" in text

    replacement_text = _text(login(owner).get(reverse("key-detail", args=[org.slug, replacement.public_id]))
                             .content.decode())
    assert f"Made by rotating {key.public_id} · by {developer.email}" in replacement_text
    assert f"Replaces {key.name} {key.public_id} Revoked" in replacement_text


def test_another_organizations_key_page_is_a_404(org, other_app, make_key, owner, login) -> None:
    foreign, _ = make_key(other_app)
    assert login(owner).get(reverse("key-detail", args=[org.slug, foreign.public_id])).status_code == 404
