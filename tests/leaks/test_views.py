"""Where a leaked credential was found, on its pages in the dashboard and in the admin (read-only)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from leaks.models import LeakReport
from tests.leaks.conftest import finding

pytestmark = pytest.mark.django_db


def test_the_application_page_says_where_a_key_was_found(report, app, make_key, login, viewer):
    key, plaintext = make_key(app, name="Deploy key")
    other, _ = make_key(app, name="Quiet key")
    assert report([finding(plaintext, url="https://github.com/octo/hello/blob/abc/.env")]).status_code == 200

    page = login(viewer).get(reverse("app-detail", args=[app.organization.slug, app.pk]))

    assert page.status_code == 200
    html = page.content.decode()
    assert "Leaked and revoked" in html
    assert 'href="https://github.com/octo/hello/blob/abc/.env"' in html and "(content)" in html
    assert "GitHub secret scanning" in html and key.masked in html
    assert html.count("Leaked and revoked") == 1  # the quiet key has no banner
    assert plaintext not in html


def test_a_reported_url_that_is_not_http_is_shown_as_text(report, app, make_key, login, viewer):
    _key, plaintext = make_key(app)
    report([finding(plaintext, url="javascript:alert(1)")])
    html = login(viewer).get(reverse("app-detail", args=[app.organization.slug, app.pk])).content.decode()
    assert 'href="javascript:' not in html and "<code>javascript:alert(1)</code>" in html


def test_another_organization_sees_no_banner(report, app, make_key, login, outsider, other_app):
    _key, plaintext = make_key(app)
    report([plaintext])
    html = login(outsider).get(reverse("app-detail", args=[other_app.organization.slug, other_app.pk])).content
    assert b"Leaked and revoked" not in html


def test_the_oauth_client_page_says_a_token_leaked(report, app, make_client, login, viewer):
    from django.test import Client

    client, secret = make_client(app)
    token = Client().post("/oauth/token/", {"grant_type": "client_credentials", "client_id": client.client_id,
                                            "client_secret": secret}).json()["access_token"]
    report([finding(token, url="https://gist.github.com/y")])
    html = login(viewer).get(reverse("client-detail", args=[app.organization.slug, client.pk])).content.decode()
    assert "Leaked and revoked" in html and "https://gist.github.com/y" in html and token not in html


def test_leak_reports_are_read_only_in_the_admin(report, app, make_key, staff_client):
    _key, plaintext = make_key(app)
    report([plaintext])
    leak = LeakReport.objects.get()
    assert staff_client.get(reverse("admin:leaks_leakreport_changelist")).status_code == 200
    page = staff_client.get(reverse("admin:leaks_leakreport_change", args=[leak.pk]))
    assert page.status_code == 200 and plaintext not in page.content.decode()
    assert staff_client.get(reverse("admin:leaks_leakreport_add")).status_code == 403
    assert staff_client.post(reverse("admin:leaks_leakreport_change", args=[leak.pk]), {}).status_code == 403
    assert staff_client.get(reverse("admin:leaks_leakreport_delete", args=[leak.pk])).status_code == 403


def test_the_key_page_says_where_the_key_was_found(report, app, make_key, login, viewer):
    key, plaintext = make_key(app)
    report([finding(plaintext, url="https://github.com/acme/shop/blob/main/.env")])
    html = login(viewer).get(reverse("key-detail", args=[app.organization.slug, key.public_id])).content.decode()
    assert "Leaked and revoked" in html and "https://github.com/acme/shop/blob/main/.env" in html
    assert plaintext not in html
