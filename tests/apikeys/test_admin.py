"""Staff manage applications in /admin/ through the same services as the dashboard and the API."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from apikeys import services
from apikeys.models import ApiKey
from audit.models import AuditEvent
from portal.callers import Caller
from portal.encryption import encrypt
from portal.showonce import SESSION_KEY
from tests.factories import ApplicationFactory, OrganizationFactory
from tests.helpers import stored_text_containing

pytestmark = pytest.mark.django_db




# --- API keys ----------------------------------------------------------------------------------------------

KEY_ADD_URL = "admin:apikeys_apikey_add"
KEY_CHANGELIST_URL = "admin:apikeys_apikey_changelist"


def _add_key(staff_client, application, **overrides):
    form = {"application": application.pk, "name": "Staff key", "scope_preset": "READ_ONLY",
            "expires_in_days": "30", "environment": "live", "allowed_ips": "", "rate_limit_per_minute": ""}
    form.update(overrides)
    return staff_client.post(reverse(KEY_ADD_URL), form)


def test_the_key_changelist_finds_a_key_by_its_public_id(staff_client, app, make_key):
    wanted, _ = make_key(app, name="wanted")
    other, _ = make_key(app, name="other")

    html = staff_client.get(reverse(KEY_CHANGELIST_URL), {"q": wanted.public_id}).content.decode()

    assert wanted.public_id in html
    assert other.public_id not in html


def test_the_key_changelist_finds_a_key_by_its_masked_form(staff_client, app, make_key):
    wanted, _ = make_key(app, name="wanted")
    other, _ = make_key(app, name="other")

    html = staff_client.get(reverse(KEY_CHANGELIST_URL), {"q": wanted.masked}).content.decode()

    assert wanted.public_id in html
    assert other.public_id not in html


@pytest.mark.parametrize("status", ["active", "rotating", "expired", "revoked"])
def test_the_status_filter_shows_only_keys_of_that_status(staff_client, org, app, make_key, status):
    active, _ = make_key(app, name="active")
    rotating, _ = make_key(app, name="rotating")
    services.api_key_rotate(caller=Caller.system(org), key=rotating)
    expired, _ = make_key(app, name="expired")
    ApiKey.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    revoked, _ = make_key(app, name="revoked")
    services.api_key_revoke(caller=Caller.system(org), key=revoked)
    keys = {"active": active, "rotating": rotating, "expired": expired, "revoked": revoked}

    response = staff_client.get(reverse(KEY_CHANGELIST_URL), {"status": status})

    shown = {key.public_id for key in response.context["cl"].result_list}
    assert keys[status].public_id in shown
    assert not shown & {key.public_id for name, key in keys.items() if name != status}
    assert all(key.status == status for key in response.context["cl"].result_list)


def test_the_key_changelist_costs_the_same_queries_for_many_keys(staff_client, app, make_key):
    make_key(app)
    with CaptureQueriesContext(connection) as one:
        assert staff_client.get(reverse(KEY_CHANGELIST_URL)).status_code == 200
    for number in range(5):
        make_key(ApplicationFactory(organization=OrganizationFactory()), name=f"k{number}")
    with CaptureQueriesContext(connection) as many:
        assert staff_client.get(reverse(KEY_CHANGELIST_URL)).status_code == 200

    assert len(many) == len(one)


def test_no_admin_page_of_a_key_shows_its_hash_or_secret(staff_client, app, make_key):
    key, plaintext = make_key(app)
    secret_part = plaintext.split("_")[-1][len(key.public_id):]

    for url in (reverse(KEY_CHANGELIST_URL), reverse("admin:apikeys_apikey_change", args=[key.pk]),
                reverse("admin:apikeys_apikey_history", args=[key.pk])):
        response = staff_client.get(url)
        html = response.content.decode()
        assert response.status_code == 200, url
        assert key.key_hash not in html
        assert secret_part not in html
        assert "key_hash" not in html
    assert key.public_id in html


def test_a_key_cannot_be_edited_or_deleted_in_the_admin(staff_client, app, make_key):
    key, _ = make_key(app, name="original")

    change = staff_client.post(reverse("admin:apikeys_apikey_change", args=[key.pk]),
                               {"name": "renamed", "scopes": '["admin"]'})
    delete = staff_client.post(reverse("admin:apikeys_apikey_delete", args=[key.pk]), {"post": "yes"})

    assert change.status_code == 403
    assert delete.status_code == 403
    key.refresh_from_db()
    assert (key.name, key.revoked_at) == ("original", None)


def test_bulk_revoke_revokes_every_selected_key_and_audits_the_staff_user(staff_client, staff, org, app, make_key,
                                                                          api_client):
    first, first_plaintext = make_key(app, name="first")
    second, _ = make_key(ApplicationFactory(organization=OrganizationFactory()), name="second")
    kept, kept_plaintext = make_key(app, name="kept")

    response = staff_client.post(reverse(KEY_CHANGELIST_URL),
                                 {"action": "revoke_keys", "_selected_action": [first.pk, second.pk]})

    assert response.status_code == 302
    revoked = set(ApiKey.objects.filter(revoked_at__isnull=False).values_list("pk", flat=True))
    assert revoked == {first.pk, second.pk}
    events = AuditEvent.objects.filter(action="api_key.revoked")
    assert {(e.target_id, e.actor_user, e.organization_id) for e in events} == {
        (str(first.pk), staff, first.organization_id), (str(second.pk), staff, second.organization_id)}
    assert api_client(first_plaintext).get("/api/v1/hello").status_code == 401
    assert api_client(kept_plaintext).get("/api/v1/hello").status_code == 200


def test_staff_add_a_key_and_see_it_once_and_it_works(staff_client, staff, app, api_client):
    response = _add_key(staff_client, app)

    assert response.status_code == 302
    key = ApiKey.objects.get(name="Staff key")
    assert (key.organization, key.application, key.created_by) == (app.organization, app, staff)
    page = staff_client.get(response["Location"])
    html = page.content.decode()
    plaintext = re.search(r'value="(dp_live_[0-9A-Za-z]+)"', html)[1]
    assert plaintext.startswith(f"dp_live_{key.public_id}")
    assert "no-store" in page["Cache-Control"]
    assert 'data-copy-target="#secret-1"' in html
    assert api_client(plaintext).get("/api/v1/hello", {"name": "Test"}).json() == {"message": "Hello Test!"}
    assert AuditEvent.objects.get(action="api_key.created").actor_user == staff
    assert stored_text_containing(plaintext) == []

    again = staff_client.get(response["Location"])
    change_page = staff_client.get(reverse("admin:apikeys_apikey_change", args=[key.pk]))
    assert again.status_code == 410
    assert plaintext not in again.content.decode()
    assert plaintext not in change_page.content.decode()


def test_a_key_the_service_refuses_shows_the_reason_in_the_add_form(staff_client, org, app):
    org.allow_keys_without_expiry = False
    org.save(update_fields=["allow_keys_without_expiry"])

    response = _add_key(staff_client, app, expires_in_days="")

    assert response.status_code == 200
    assert "requires keys to expire" in response.content.decode()
    assert not ApiKey.objects.exists()


def test_a_key_needs_a_preset_or_scopes(staff_client, app):
    response = _add_key(staff_client, app, scope_preset="")

    assert response.status_code == 200
    assert "Choose a scope preset or at least one scope" in response.content.decode()
    assert not ApiKey.objects.exists()


def test_the_admin_show_once_page_leaves_a_dashboard_secret_for_its_own_page(staff_client):
    session = staff_client.session
    session[SESSION_KEY] = encrypt(json.dumps({"kind": "api_key", "key": "dashboard secret"}))
    session.save()

    response = staff_client.get(reverse("admin:apikeys_apikey_created"))

    assert response.status_code == 410
    assert "dashboard secret" not in response.content.decode()
    assert SESSION_KEY in staff_client.session
