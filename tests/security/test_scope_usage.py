"""What each credential really uses (section 19): every call records its endpoint's scope in the usage batch (no
query of its own), the scope-usage API and pages show it, and "Narrow to what it used" rotates into less."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from apikeys.models import ApiKey
from portal import scopes as scope_registry
from security.models import ScopeUsage
from usage.recorder import recorder

pytestmark = pytest.mark.django_db


def _usage(client, key) -> dict:
    response = client.get(f"/api/v1/api-keys/{key.public_id}/scope-usage")
    assert response.status_code == 200
    return {row["scope"]: row["lastUsedAt"] for row in response.json()["scopes"]}


def test_each_call_records_the_scope_its_endpoint_required(app, make_key, api_client, flush_usage) -> None:
    key, plaintext = make_key(app, None, scopes=["apps:read", "keys:read", "audit:read"])
    client = api_client(plaintext)
    assert client.get("/api/v1/applications").status_code == 200
    # Gathered in the process (no query of its own), shown at once from there, written by the next flush.
    assert _usage(client, key)["apps:read"] is not None
    assert not ScopeUsage.objects.filter(api_key=key).exists()
    flush_usage()
    assert ScopeUsage.objects.filter(api_key=key, scope="apps:read").exists()
    usage = _usage(client, key)
    assert list(usage) == ["apps:read", "keys:read", "audit:read"]
    assert usage["apps:read"] is not None and usage["audit:read"] is None
    flush_usage()
    assert _usage(client, key)["keys:read"] is not None  # the scope-usage call itself needs keys:read


def test_a_key_holding_admin_records_the_endpoint_scope_not_admin(app, make_key, api_client, flush_usage) -> None:
    key, plaintext = make_key(app, "ADMIN")
    assert api_client(plaintext).get("/api/v1/audit-events").status_code == 200
    flush_usage()
    assert set(ScopeUsage.objects.filter(api_key=key).values_list("scope", flat=True)) == {"audit:read"}
    usage = _usage(api_client(plaintext), key)
    assert usage["audit:read"] is not None and usage["apps:read"] is None


def test_a_refused_call_records_nothing(app, make_key, api_client, flush_usage) -> None:
    key, plaintext = make_key(app, None, scopes=["apps:read"])
    assert api_client(plaintext).get("/api/v1/audit-events").status_code == 403
    flush_usage()
    assert not ScopeUsage.objects.filter(api_key=key).exists()


def test_uses_older_than_90_days_show_as_never(app, make_key, api_client, flush_usage) -> None:
    key, plaintext = make_key(app, None, scopes=["apps:read", "keys:read"])
    ScopeUsage.objects.create(organization=app.organization, api_key=key, scope="apps:read",
                              last_used_at=timezone.now() - timedelta(days=91))
    assert _usage(api_client(plaintext), key)["apps:read"] is None


def test_scope_usage_of_another_organizations_key_is_a_404(app, other_app, make_key, client_a) -> None:
    foreign, _ = make_key(other_app, "READ_ONLY")
    response = client_a.get(f"/api/v1/api-keys/{foreign.public_id}/scope-usage")
    assert response.status_code == 404 and response.json()["code"] == "NOT_FOUND"


def test_scope_usage_needs_keys_read(app, make_key, api_client) -> None:
    key, plaintext = make_key(app, None, scopes=["apps:read"])
    response = api_client(plaintext).get(f"/api/v1/api-keys/{key.public_id}/scope-usage")
    assert response.status_code == 403 and response.json()["requiredScopes"] == ["keys:read"]


def test_recording_the_scope_adds_no_query_to_a_request(app, make_key, api_client) -> None:
    _, plaintext = make_key(app, "ADMIN")
    client = api_client(plaintext)
    client.get("/api/v1/applications")  # warm caches

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/api/v1/applications").status_code == 200
        return len(captured)

    with_scopes = queries()
    recorder.record_scopes = False
    try:
        without = queries()
    finally:
        recorder.record_scopes = True
    assert with_scopes == without


def test_oauth_tokens_record_their_scopes_per_client(app, make_client, flush_usage) -> None:
    from django.test import Client
    from rest_framework.test import APIClient

    client, secret = make_client(app, scopes=["apps:read", "keys:read"])
    token = Client().post("/oauth/token/", {"grant_type": "client_credentials", "client_id": client.client_id,
                                            "client_secret": secret, "scope": "apps:read"}).json()
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token['access_token']}")
    assert api.get("/api/v1/applications").status_code == 200
    flush_usage()
    assert list(ScopeUsage.objects.filter(oauth_client=client).values_list("scope", flat=True)) == ["apps:read"]


# Pages -------------------------------------------------------------------------------------------------------


def test_the_key_page_shows_each_scope_with_its_last_use(org, owner, login, app, make_key, api_client,
                                                         flush_usage) -> None:
    key, plaintext = make_key(app, None, scopes=["apps:read", "audit:read"])
    api_client(plaintext).get("/api/v1/applications")
    flush_usage()
    page = login(owner).get(reverse("key-detail", args=[org.slug, key.public_id])).content.decode()
    section = page.split('id="scope-usage"')[1].split("</section>")[0]
    assert "apps:read" in section and "audit:read" in section
    assert section.count("Never") == 1
    assert reverse("key-narrow", args=[org.slug, key.public_id]) in section


def test_the_oauth_client_page_shows_each_scope_with_its_last_use(org, owner, login, app, make_client) -> None:
    client, _ = make_client(app, scopes=["apps:read", "keys:read"])
    ScopeUsage.objects.create(organization=org, oauth_client=client, user_id=0, scope="keys:read",
                              last_used_at=timezone.now())
    page = login(owner).get(reverse("client-detail", args=[org.slug, client.pk])).content.decode()
    section = page.split('id="scope-usage"')[1].split("</section>")[0]
    assert "keys:read" in section and section.count("Never") == 1


def test_narrowing_lists_what_goes_then_rotates_into_what_was_used(org, developer, login, app, make_key,
                                                                   api_client, flush_usage) -> None:
    key, plaintext = make_key(app, None, scopes=["apps:read", "keys:read", "audit:read"], environment="test")
    api_client(plaintext).get("/api/v1/applications")
    flush_usage()
    client = login(developer)
    url = reverse("key-narrow", args=[org.slug, key.public_id])
    page = client.get(url).content.decode()
    going = page.split('id="scopes-going"')[1].split("</ul>")[0]
    staying = page.split('id="scopes-staying"')[1].split("</ul>")[0]
    assert "keys:read" in going and "audit:read" in going and "apps:read" not in going
    assert "apps:read" in staying
    response = client.post(url)
    assert response.status_code == 302
    shown = client.get(response["Location"])
    new_plaintext = shown.context["secret"]["key"]
    assert new_plaintext in shown.content.decode()
    assert new_plaintext not in client.get(response["Location"]).content.decode()  # shown once
    new = ApiKey.objects.get(public_id=shown.context["secret"]["public_id"])
    assert new.scopes == ["apps:read"]
    key.refresh_from_db()
    assert key.status == "rotating" and key.replaced_by == new
    assert key.expires_at - timezone.now() > timedelta(hours=23)  # the usual grace period
    assert api_client(plaintext).get("/api/v1/hello?name=Test").status_code == 200
    assert api_client(new_plaintext).get("/api/v1/applications").status_code == 200
    assert api_client(new_plaintext).get("/api/v1/audit-events").status_code == 403


def test_a_key_that_used_nothing_cannot_be_narrowed(org, developer, login, app, make_key) -> None:
    key, _ = make_key(app, None, scopes=["apps:read", "keys:read"], environment="test")
    client = login(developer)
    url = reverse("key-narrow", args=[org.slug, key.public_id])
    assert "cannot be narrowed" in client.get(url).content.decode()
    count = ApiKey.objects.count()
    response = client.post(url, follow=True)
    assert "used none of its scopes" in response.content.decode()
    assert ApiKey.objects.count() == count


def test_narrowing_an_admin_key_keeps_the_scopes_it_used(org, owner, login, app, make_key, api_client,
                                                         flush_usage) -> None:
    key, plaintext = make_key(app, "ADMIN", environment="test")
    api_client(plaintext).get("/api/v1/webhooks")
    flush_usage()
    client = login(owner)
    response = client.post(reverse("key-narrow", args=[org.slug, key.public_id]))
    shown = client.get(response["Location"])
    new = ApiKey.objects.get(public_id=shown.context["secret"]["public_id"])
    assert new.scopes == ["webhooks:read"]
    assert "admin" in scope_registry.registry()
