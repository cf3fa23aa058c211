"""The dashboard's application pages: listing, creating, editing, deleting, and who may do which."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.roles import Role
from applications.models import Application
from audit.models import AuditEvent
from oauthapps.models import OAuthClient
from tests.factories import ApplicationFactory, MembershipFactory

pytestmark = pytest.mark.django_db


def _hello(api_client, key: str) -> int:
    return api_client(key).get("/api/v1/hello?name=Test").status_code


def test_app_list_shows_each_application_with_its_active_key_count(org, viewer, login, app, make_key) -> None:
    make_key(app)
    make_key(app)
    revoked, _ = make_key(app)
    revoked.revoked_at = revoked.created_at
    revoked.save(update_fields=["revoked_at"])
    ApplicationFactory(organization=org, name="Empty one")

    response = login(viewer).get(reverse("app-list", args=[org.slug]))

    assert response.status_code == 200
    rows = {a.name: a.active_key_count for a in response.context["applications"]}
    assert rows == {"Billing sync": 2, "Empty one": 0}
    html = response.content.decode()
    assert "Billing sync" in html and reverse("app-detail", args=[org.slug, app.pk]) in html


@pytest.mark.parametrize(("role", "offered"), [
    (Role.VIEWER, False), (Role.DEVELOPER, True), (Role.ADMIN, True), (Role.OWNER, True),
])
def test_new_application_form_is_offered_to_developers_and_up(org, login, role, offered) -> None:
    from tests.factories import MembershipFactory

    user = MembershipFactory(organization=org, role=role).user
    html = login(user).get(reverse("app-list", args=[org.slug])).content.decode()
    assert ("Create application" in html) is offered


def test_developer_creates_an_application_and_it_is_audited(org, developer, login) -> None:
    response = login(developer).post(reverse("app-list", args=[org.slug]),
                                     {"name": "  Mobile app ", "description": "iOS and Android"})

    application = Application.objects.get(organization=org)
    assert response.status_code == 302
    assert response["Location"] == reverse("app-detail", args=[org.slug, application.pk])
    assert (application.name, application.description, application.created_by) == (
        "Mobile app", "iOS and Android", developer)
    event = AuditEvent.objects.get(action="application.created")
    assert (event.organization, event.actor_user, event.target_id) == (org, developer, str(application.pk))


@pytest.mark.parametrize(("data", "field"), [
    ({"name": "billing SYNC"}, "name"),  # names are unique in an organization, whatever the case
    ({"name": ""}, "name"),
    ({"name": "x" * 121}, "name"),
    ({"name": "Fine", "description": "d" * 2001}, "description"),
])
def test_invalid_application_is_shown_as_form_error_and_not_stored(org, developer, login, app, data, field) -> None:
    response = login(developer).post(reverse("app-list", args=[org.slug]), data)

    assert response.status_code == 400
    assert response.context["form"].errors[field]
    assert list(Application.objects.filter(organization=org)) == [app]


def test_developer_edits_an_application_and_it_is_audited(org, developer, login, app) -> None:
    url = reverse("app-detail", args=[org.slug, app.pk])
    response = login(developer).post(url, {"name": "Billing v2", "description": "New text"})

    assert response.status_code == 302 and response["Location"] == url
    app.refresh_from_db()
    assert (app.name, app.description) == ("Billing v2", "New text")
    event = AuditEvent.objects.get(action="application.updated")
    assert event.metadata == {"fields": ["description", "name"]}


def test_edit_to_a_taken_name_is_refused(org, developer, login, app) -> None:
    ApplicationFactory(organization=org, name="Taken")
    response = login(developer).post(reverse("app-detail", args=[org.slug, app.pk]), {"name": "taken"})

    assert response.status_code == 400
    assert "already exists" in str(response.context["form"].errors["name"])
    app.refresh_from_db()
    assert app.name == "Billing sync"


def test_app_detail_lists_the_keys_of_that_application_only(org, viewer, login, app, make_key) -> None:
    mine, _ = make_key(app, "READ_ONLY", name="reader")
    other, _ = make_key(ApplicationFactory(organization=org), name="elsewhere")

    response = login(viewer).get(reverse("app-detail", args=[org.slug, app.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    assert mine.masked in html and "apps:read" in html and "badge-active" in html
    assert other.public_id not in html
    # A viewer may make read-only keys but not revoke, rotate, edit or delete.
    assert reverse("key-create", args=[org.slug, app.pk]) in html
    assert reverse("key-revoke", args=[org.slug, mine.public_id]) not in html
    assert reverse("app-delete", args=[org.slug, app.pk]) not in html


def test_deleting_an_application_asks_first_then_revokes_its_keys(org, developer, login, app, make_key,
                                                                  api_client) -> None:
    key, plaintext = make_key(app)
    client = login(developer)
    url = reverse("app-delete", args=[org.slug, app.pk])

    confirm = client.get(url)
    assert confirm.status_code == 200
    assert "1 active API key will be revoked" in confirm.content.decode()
    assert Application.objects.filter(pk=app.pk).exists()

    response = client.post(url)

    assert response.status_code == 302 and response["Location"] == reverse("app-list", args=[org.slug])
    assert not Application.objects.filter(pk=app.pk).exists()
    actions = set(AuditEvent.objects.filter(organization=org).values_list("action", flat=True))
    assert {"api_key.revoked", "application.deleted"} <= actions
    assert AuditEvent.objects.get(action="api_key.revoked").metadata["publicId"] == key.public_id
    assert _hello(api_client, plaintext) == 401


def test_anonymous_visitors_are_sent_to_sign_in(org, app) -> None:
    from django.test import Client

    response = Client().get(reverse("app-list", args=[org.slug]))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(("role", "offered"), [
    (Role.VIEWER, False), (Role.DEVELOPER, True), (Role.ADMIN, True), (Role.OWNER, True),
])
def test_the_application_page_lists_its_clients_and_offers_registration_to_developers_and_up(
        org, app, login, make_client, role, offered) -> None:
    client, _ = make_client(app, name="Listed client")
    user = MembershipFactory(organization=org, role=role).user
    html = login(user).get(reverse("app-detail", args=[org.slug, app.pk])).content.decode()

    assert "Listed client" in html and reverse("client-detail", args=[org.slug, client.pk]) in html
    assert ("Register OAuth client" in html) is offered


def _count_queries(browser, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert browser.get(url).status_code == 200
    return len(queries)


def test_the_application_page_runs_the_same_number_of_queries_for_1_and_12_clients(org, developer, login, app,
                                                                                  make_client) -> None:
    browser = login(developer)
    url = reverse("app-detail", args=[org.slug, app.pk])
    make_client(app)
    few = _count_queries(browser, url)
    for number in range(11):
        make_client(app, grants=("authorization_code", "refresh_token"), name=f"client {number}")
    many = _count_queries(browser, url)

    assert OAuthClient.objects.filter(application=app).count() == 12
    assert few == many
