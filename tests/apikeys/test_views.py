"""The dashboard pages of applications and API keys, used as a person would, through Django's Client."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.db import connection, models
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.roles import Role
from apikeys.models import ApiKey
from applications.models import Application
from audit.models import AuditEvent
from tests.factories import ApplicationFactory

pytestmark = pytest.mark.django_db

HELLO = "/api/v1/hello?name=Test"


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def _key_form(**overrides) -> dict:
    data = {"name": "CI deploys", "scope_preset": "READ_ONLY", "expires_in_days": "30", "environment": "live",
            "rate_limit_per_minute": "", "allowed_ips": ""}
    data.update(overrides)
    return data


def _create_key_and_read_it(client, org, app, **overrides) -> tuple[str, object]:
    """POST the key form, follow to the show-once page; return the key read from the page and that response."""
    response = client.post(reverse("key-create", args=[org.slug, app.pk]), _key_form(**overrides))
    assert response.status_code == 302, response.content.decode()
    assert response["Location"] == reverse("key-created", args=[org.slug])
    page = client.get(response["Location"])
    assert page.status_code == 200
    return page.context["secret"]["key"], page


def _hello(api_client, key: str) -> int:
    return api_client(key).get(HELLO).status_code


# --- Creating a key and showing it once ------------------------------------------------------------------


def test_key_is_created_shown_once_and_works(org, developer, login, app, api_client) -> None:
    client = login(developer)
    plaintext, page = _create_key_and_read_it(client, org, app, scope_preset="STANDARD", environment="test")

    html = page.content.decode()
    assert plaintext in html
    assert "won't see it again" in html
    assert 'curl "http://localhost:8000/api/v1/hello?name=Test"' in html
    assert f"X-API-Key: {plaintext}" in html  # curl and JavaScript
    assert f'"X-API-Key": "{plaintext}"' in html  # Python and JavaScript
    assert 'data-copy-target="#new-key"' in html
    assert "no-store" in page["Cache-Control"]

    key = ApiKey.objects.get(organization=org)
    assert plaintext.startswith(f"dp_test_{key.public_id}")
    assert (key.name, key.created_by, key.application) == ("CI deploys", developer, app)
    assert "team:write" not in key.scopes and "apps:write" in key.scopes
    assert AuditEvent.objects.filter(action="api_key.created", target_id=str(key.pk)).exists()
    assert api_client(plaintext).get(HELLO).json() == {"message": "Hello Test!"}

    reload = client.get(reverse("key-created", args=[org.slug]))
    assert reload.status_code == 410
    assert plaintext not in reload.content.decode()
    assert "already shown" in reload.content.decode()
    assert "no-store" in reload["Cache-Control"]


def test_snippets_use_the_configured_base_url_in_production(org, developer, login, app, settings) -> None:
    settings.DEBUG = False
    settings.PORTAL = {**getattr(settings, "PORTAL", {}), "BASE_URL": "https://dev.example.com/"}
    client = login(developer)
    client.defaults["HTTP_HOST"] = "127.0.0.1:8000"  # where the page was opened does not matter in production
    plaintext, page = _create_key_and_read_it(client, org, app)
    html = page.content.decode()
    assert '"https://dev.example.com/api/v1/hello?name=Test"' in html and "127.0.0.1" not in html
    assert 'fetch("https://dev.example.com/api/v1/hello?name=Test"' in html
    assert '"https://dev.example.com/api/v1/hello",' in html  # the Python snippet


def test_snippets_use_the_address_the_page_was_opened_at_in_debug(org, developer, login, app, settings) -> None:
    settings.DEBUG = True
    settings.PORTAL = {**getattr(settings, "PORTAL", {}), "BASE_URL": "https://dev.example.com/"}
    client = login(developer)
    client.defaults["HTTP_HOST"] = "127.0.0.1:8000"
    plaintext, page = _create_key_and_read_it(client, org, app)
    html = page.content.decode()
    assert f'curl "http://127.0.0.1:8000/api/v1/hello?name=Test" \\\n  -H "X-API-Key: {plaintext}"' in html
    assert 'fetch("http://127.0.0.1:8000/api/v1/hello?name=Test"' in html
    assert '"http://127.0.0.1:8000/api/v1/hello",' in html
    assert "dev.example.com" not in html
    overview = client.get(reverse("org-overview", args=[org.slug])).content.decode()
    assert "http://127.0.0.1:8000/api/v1/hello?name=Test" in overview


def test_key_form_fields_reach_the_key(org, developer, login, app) -> None:
    _create_key_and_read_it(
        login(developer), org, app, scope_preset="custom", scopes=["keys:read", "apps:read"], expires_in_days="7",
        rate_limit_per_minute="120", allowed_ips="203.0.113.7\n\n 10.0.0.0/8 \n",
    )
    key = ApiKey.objects.get(organization=org)
    assert key.scopes == ["apps:read", "keys:read"]
    assert round((key.expires_at - key.created_at).total_seconds() / 86400) == 7
    assert key.rate_limit_per_minute == 120
    assert key.allowed_ips == ["203.0.113.7/32", "10.0.0.0/8"]


def _all_stored_text() -> list[str]:
    """Every text value in the database (char, text and JSON columns of every model), and every session decoded."""
    values: list[str] = []
    tables = set(connection.introspection.table_names())
    for model in apps.get_models():
        if model._meta.db_table not in tables:  # a model whose migration is not written yet holds nothing
            continue
        names = [f.attname for f in model._meta.concrete_fields
                 if isinstance(f, models.CharField | models.TextField | models.JSONField)]
        if names:
            values.extend(str(row) for row in model._base_manager.values_list(*names))
    values.extend(str(SessionStore().decode(s.session_data)) for s in Session.objects.all())
    return values


def test_the_key_is_in_no_other_page_and_nowhere_in_the_database(org, developer, login, app) -> None:
    client = login(developer)
    response = client.post(reverse("key-create", args=[org.slug, app.pk]), _key_form())
    key = ApiKey.objects.get(organization=org)
    assert Session.objects.exists()
    # Between the redirect and the show-once page only an encrypted copy sits in the session.
    stored = _all_stored_text()

    plaintext = client.get(response["Location"]).context["secret"]["key"]
    secret_part = plaintext.split("_")[-1].removeprefix(key.public_id)
    stored += _all_stored_text()

    assert len(secret_part) >= 32
    assert not [value for value in stored if plaintext in value or secret_part in value]
    assert key.masked in client.get(reverse("app-detail", args=[org.slug, app.pk])).content.decode()
    for url in [reverse("app-list", args=[org.slug]), reverse("app-detail", args=[org.slug, app.pk]),
                reverse("key-created", args=[org.slug]), reverse("org-audit", args=[org.slug]),
                reverse("org-overview", args=[org.slug])]:
        assert secret_part not in client.get(url).content.decode()


def test_the_key_goes_into_no_message_and_no_url(org, developer, login, app) -> None:
    client = login(developer)
    response = client.post(reverse("key-create", args=[org.slug, app.pk]), _key_form(), follow=True)
    plaintext = response.context["secret"]["key"]
    assert all(plaintext not in url for url, _status in response.redirect_chain)
    assert all(plaintext not in message for message in _messages(response))


@pytest.mark.parametrize(("role", "data"), [
    (Role.VIEWER, {"scope_preset": "custom", "scopes": ["apps:write"]}),
    (Role.VIEWER, {"scope_preset": "custom", "scopes": ["apps:read", "keys:write"]}),
    (Role.VIEWER, {"scope_preset": "STANDARD"}),
    (Role.VIEWER, {"scope_preset": "ADMIN"}),
    (Role.DEVELOPER, {"scope_preset": "custom", "scopes": ["team:write"]}),
    (Role.DEVELOPER, {"scope_preset": "custom", "scopes": ["admin"]}),
    (Role.DEVELOPER, {"scope_preset": "ADMIN"}),
])
def test_a_crafted_post_beyond_the_role_is_refused_and_stores_nothing(org, app, login, role, data) -> None:
    from tests.factories import MembershipFactory

    user = MembershipFactory(organization=org, role=role).user
    response = login(user).post(reverse("key-create", args=[org.slug, app.pk]), _key_form(**data))

    assert response.status_code == 400
    form = response.context["form"]
    field = "scopes" if data["scope_preset"] == "custom" else "scope_preset"
    assert "Your role cannot grant" in str(form.errors[field])
    assert not ApiKey.objects.exists()
    assert not AuditEvent.objects.filter(action="api_key.created").exists()


@pytest.mark.parametrize(("role", "data", "scopes"), [
    (Role.VIEWER, {"scope_preset": "READ_ONLY"}, ["apps:read", "keys:read", "team:read", "audit:read",
                                                  "usage:read", "webhooks:read"]),
    (Role.VIEWER, {"scope_preset": "custom", "scopes": ["audit:read"]}, ["audit:read"]),
    (Role.DEVELOPER, {"scope_preset": "custom", "scopes": ["keys:write"]}, ["keys:write"]),
    (Role.ADMIN, {"scope_preset": "custom", "scopes": ["team:write"]}, ["team:write"]),
    (Role.OWNER, {"scope_preset": "ADMIN"}, None),
    (Role.OWNER, {"scope_preset": "custom", "scopes": ["admin"]}, ["admin"]),
])
def test_each_role_makes_keys_within_its_ceiling(org, app, login, api_client, role, data, scopes) -> None:
    from portal.scopes import presets
    from tests.factories import MembershipFactory

    user = MembershipFactory(organization=org, role=role).user
    plaintext, _page = _create_key_and_read_it(login(user), org, app, **data)

    assert ApiKey.objects.get().scopes == (scopes if scopes is not None else presets()["ADMIN"])
    assert _hello(api_client, plaintext) == 200


@pytest.mark.parametrize(("role", "offered", "withheld"), [
    (Role.VIEWER, ["READ_ONLY", "apps:read", "audit:read"],
     ["STANDARD", "ADMIN", "apps:write", "keys:write", "team:write", "admin"]),
    (Role.DEVELOPER, ["READ_ONLY", "STANDARD", "apps:write", "keys:write"], ["ADMIN", "team:write", "admin"]),
    (Role.ADMIN, ["READ_ONLY", "STANDARD", "ADMIN", "team:write", "admin"], []),
    (Role.OWNER, ["READ_ONLY", "STANDARD", "ADMIN", "team:write", "admin"], []),
])
def test_the_key_form_offers_only_what_the_role_may_grant(org, app, login, role, offered, withheld) -> None:
    from tests.factories import MembershipFactory

    user = MembershipFactory(organization=org, role=role).user
    response = login(user).get(reverse("key-create", args=[org.slug, app.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    for value in offered:
        assert f'value="{value}"' in html
    for value in withheld:
        assert f'value="{value}"' not in html
    assert "Read the audit log" in html  # each scope comes with its description


@pytest.mark.parametrize(("allowed", "never_offered"), [(True, True), (False, False)])
def test_never_expiring_keys_are_offered_only_where_the_organization_allows(org, developer, login, app,
                                                                            allowed, never_offered) -> None:
    org.allow_keys_without_expiry = allowed
    org.save(update_fields=["allow_keys_without_expiry"])
    client = login(developer)

    html = client.get(reverse("key-create", args=[org.slug, app.pk])).content.decode()
    assert ('value="never"' in html) is never_offered

    response = client.post(reverse("key-create", args=[org.slug, app.pk]), _key_form(expires_in_days="never"))
    assert response.status_code == (302 if allowed else 400)
    assert ApiKey.objects.filter(expires_at__isnull=True).exists() is allowed


@pytest.mark.parametrize(("data", "field"), [
    ({"name": ""}, "name"),
    ({"scope_preset": "custom"}, "scopes"),
    ({"scope_preset": "NOPE"}, "scope_preset"),
    ({"scope_preset": "custom", "scopes": ["orders:read"]}, "scopes"),
    ({"expires_in_days": "400"}, "expires_in_days"),
    ({"environment": "prod"}, "environment"),
    ({"rate_limit_per_minute": "0"}, "rate_limit_per_minute"),
    ({"allowed_ips": "10.0.0.0/8\nnot-an-ip"}, "allowed_ips"),
])
def test_invalid_key_input_is_a_form_error_and_stores_nothing(org, developer, login, app, data, field) -> None:
    response = login(developer).post(reverse("key-create", args=[org.slug, app.pk]), _key_form(**data))

    assert response.status_code == 400
    assert response.context["form"].errors[field]
    assert not ApiKey.objects.exists()


# --- Revoking and rotating --------------------------------------------------------------------------------


def test_revoke_asks_first_then_the_key_stops_working(org, developer, login, app, make_key, api_client) -> None:
    key, plaintext = make_key(app)
    client = login(developer)
    url = reverse("key-revoke", args=[org.slug, key.public_id])

    confirm = client.get(url)
    assert confirm.status_code == 200 and "Revoke key" in confirm.content.decode()
    key.refresh_from_db()
    assert key.status == "active"

    response = client.post(url, follow=True)

    assert response.redirect_chain[-1][0] == reverse("app-detail", args=[org.slug, app.pk])
    assert any("has been revoked" in m for m in _messages(response))
    key.refresh_from_db()
    assert key.status == "revoked"
    assert AuditEvent.objects.filter(action="api_key.revoked", target_id=str(key.pk), actor_user=developer).exists()
    assert _hello(api_client, plaintext) == 401


@pytest.mark.parametrize(("grace", "old_key_works"), [(None, True), ("24", True), ("168", True), ("0", False)])
def test_rotation_shows_the_new_key_once_and_the_old_one_lives_for_the_grace(
    org, developer, login, app, make_key, api_client, grace, old_key_works
) -> None:
    old, old_plaintext = make_key(app, "STANDARD", name="worker")
    client = login(developer)
    url = reverse("key-rotate", args=[org.slug, old.public_id])

    form_page = client.get(url)
    assert form_page.status_code == 200
    assert form_page.context["form"]["grace_period_hours"].value() == 24  # the default grace period

    response = client.post(url, {} if grace is None else {"grace_period_hours": grace})
    if grace is None:  # the form wants a choice
        assert response.status_code == 400
        return
    assert response.status_code == 302 and response["Location"] == reverse("key-created", args=[org.slug])
    page = client.get(response["Location"])
    new_plaintext = page.context["secret"]["key"]
    assert new_plaintext in page.content.decode() and new_plaintext != old_plaintext
    assert "no-store" in page["Cache-Control"]
    assert client.get(response["Location"]).status_code == 410

    old.refresh_from_db()
    assert old.replaced_by.name == f"worker (rotated {old.rotated_at:%Y-%m-%d})"
    assert old.replaced_by.scopes == old.scopes
    assert _hello(api_client, new_plaintext) == 200
    assert _hello(api_client, old_plaintext) == (200 if old_key_works else 401)
    event = AuditEvent.objects.get(action="api_key.rotated")
    assert event.metadata["gracePeriodHours"] == int(grace)


def test_a_developer_cannot_rotate_a_key_with_scopes_beyond_their_role(org, developer, login, app, make_key) -> None:
    key, _ = make_key(app, "ADMIN")
    response = login(developer).post(reverse("key-rotate", args=[org.slug, key.public_id]),
                                     {"grace_period_hours": "24"})

    assert response.status_code == 400
    assert "cannot grant" in str(response.context["form"].non_field_errors())
    key.refresh_from_db()
    assert key.replaced_by is None and ApiKey.objects.count() == 1


def test_a_revoked_key_cannot_be_rotated(org, developer, login, app, make_key) -> None:
    key, _ = make_key(app)
    key.revoked_at = key.created_at
    key.save(update_fields=["revoked_at"])
    client = login(developer)
    url = reverse("key-rotate", args=[org.slug, key.public_id])

    assert "only an active key can be rotated" in client.get(url).content.decode()
    assert client.post(url, {"grace_period_hours": "24"}).status_code == 400
    assert ApiKey.objects.count() == 1


# --- Who may see and do what ------------------------------------------------------------------------------


def _urls(org, app, key) -> dict[str, str]:
    return {
        "app-list": reverse("app-list", args=[org.slug]),
        "app-detail": reverse("app-detail", args=[org.slug, app.pk]),
        "app-delete": reverse("app-delete", args=[org.slug, app.pk]),
        "key-create": reverse("key-create", args=[org.slug, app.pk]),
        "key-created": reverse("key-created", args=[org.slug]),
        "key-revoke": reverse("key-revoke", args=[org.slug, key.public_id]),
        "key-rotate": reverse("key-rotate", args=[org.slug, key.public_id]),
    }


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("name", ["app-list", "app-detail", "app-delete", "key-create", "key-created", "key-revoke",
                                  "key-rotate"])
def test_an_outsider_gets_404_on_every_page(org, app, make_key, outsider, login, name, method, api_client) -> None:
    key, plaintext = make_key(app)
    data = {"name": "Stolen", "grace_period_hours": "0", **_key_form()}
    response = getattr(login(outsider), method)(_urls(org, app, key)[name], data)

    assert response.status_code in ((404,) if name != "key-created" or method == "get" else (404, 405))
    key.refresh_from_db()
    assert key.status == "active" and Application.objects.get(pk=app.pk).name == "Billing sync"
    assert ApiKey.objects.count() == 1
    assert _hello(api_client, plaintext) == 200


@pytest.mark.parametrize("name", ["app-detail", "app-delete", "key-create", "key-revoke", "key-rotate"])
def test_ids_of_another_organization_are_404_under_my_own(org, other_org, other_app, make_key, owner, login,
                                                          name) -> None:
    foreign_key, _ = make_key(other_app)
    response = login(owner).get(_urls(org, other_app, foreign_key)[name])
    assert response.status_code == 404


@pytest.mark.parametrize(("method", "name"), [
    ("post", "app-list"), ("post", "app-detail"), ("get", "app-delete"), ("post", "app-delete"),
    ("get", "key-revoke"), ("post", "key-revoke"), ("get", "key-rotate"), ("post", "key-rotate"),
])
def test_a_viewer_cannot_change_applications_or_keys(org, app, make_key, viewer, login, method, name,
                                                     api_client) -> None:
    key, plaintext = make_key(app)
    data = {"name": "Changed", "grace_period_hours": "0"}
    response = getattr(login(viewer), method)(_urls(org, app, key)[name], data)

    assert response.status_code == 403
    app.refresh_from_db()
    assert app.name == "Billing sync" and Application.objects.filter(organization=org).count() == 1
    assert ApiKey.objects.count() == 1 and _hello(api_client, plaintext) == 200
    assert not AuditEvent.objects.filter(action__in=["application.created", "application.updated",
                                                     "application.deleted", "api_key.revoked",
                                                     "api_key.rotated"]).exists()


# --- Constant queries --------------------------------------------------------------------------------------


def _count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize("page", ["app-list", "app-detail"])
def test_list_pages_run_the_same_number_of_queries_for_2_and_15_rows(org, developer, login, app, make_key,
                                                                     page) -> None:
    client = login(developer)
    url = reverse(page, args=[org.slug] if page == "app-list" else [org.slug, app.pk])

    def add_rows(count: int) -> None:
        """Applications with a key each, or keys of ``app`` in rotated pairs (so each row has a replacement)."""
        for _ in range(count if page == "app-list" else count // 2):
            if page == "app-list":
                make_key(ApplicationFactory(organization=org))
            else:
                old, _ = make_key(app, "STANDARD")
                client.post(reverse("key-rotate", args=[org.slug, old.public_id]), {"grace_period_hours": "1"})
        if page == "app-detail" and count % 2:
            make_key(app)

    add_rows(1 if page == "app-list" else 2)
    few = _count_queries(client, url)
    add_rows(13)
    many = _count_queries(client, url)
    rows = Application.objects.filter(organization=org) if page == "app-list" else ApiKey.objects.filter(
        application=app)
    assert rows.count() == 15
    assert few == many


@pytest.mark.parametrize("name", ["app-list", "app-detail", "key-create", "key-rotate"])
def test_an_empty_post_is_a_form_error_not_a_blank_page(org, owner, login, app, make_key, name) -> None:
    key, _ = make_key(app)
    response = login(owner).post(_urls(org, app, key)[name], {})

    assert response.status_code == 400
    assert response.context["form"].errors
    assert ApiKey.objects.count() == 1 and Application.objects.filter(organization=org).count() == 1
