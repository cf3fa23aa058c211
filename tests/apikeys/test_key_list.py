"""The organization's list of API keys (/orgs/<slug>/keys/): search, filters and pages, as a member uses them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from apikeys.models import ApiKey
from tests.factories import ApplicationFactory
from tests.helpers import listed_names

pytestmark = pytest.mark.django_db


def _path(org) -> str:
    return reverse("key-list", args=[org.slug])


def test_every_key_of_the_organization_is_listed_with_its_application(org, app, owner, login, make_key) -> None:
    other = ApplicationFactory(organization=org, name="Reporting")
    make_key(app, name="CI deploys")
    make_key(other, name="Nightly report")

    response = login(owner).get(_path(org))

    body = response.content.decode()
    assert response.status_code == 200
    assert listed_names(response) == ["Nightly report", "CI deploys"]
    assert "Billing sync" in body and "Reporting" in body
    assert "2 keys" in body


def test_search_finds_a_key_by_part_of_its_name(org, app, owner, login, make_key) -> None:
    make_key(app, name="CI deploys")
    make_key(app, name="Billing worker")

    response = login(owner).get(_path(org), {"q": "deploy"})

    assert listed_names(response) == ["CI deploys"]
    assert 'value="deploy"' in response.content.decode()
    assert "1 key found" in response.content.decode()


def test_search_finds_a_key_by_its_public_id(org, app, owner, login, make_key) -> None:
    wanted, _ = make_key(app, name="CI deploys")
    make_key(app, name="Billing worker")

    response = login(owner).get(_path(org), {"q": wanted.public_id})

    assert listed_names(response) == ["CI deploys"]


def test_search_finds_a_key_by_the_masked_form_the_list_shows(org, app, owner, login, make_key) -> None:
    wanted, _ = make_key(app, name="CI deploys")
    make_key(app, name="Billing worker")

    response = login(owner).get(_path(org), {"q": wanted.masked}, follow=True)

    assert listed_names(response) == ["CI deploys"]


def test_a_pasted_whole_key_is_looked_for_by_its_public_id_and_never_shown_back(
    org, app, owner, login, make_key
) -> None:
    wanted, plaintext = make_key(app, name="CI deploys")
    make_key(app, name="Billing worker")
    client = login(owner)

    response = client.get(_path(org), {"q": plaintext, "environment": "live"})

    assert response.status_code == 302
    assert plaintext not in response["Location"]
    assert response["Location"] == f"{_path(org)}?q={wanted.public_id}&environment=live"
    page = client.get(response["Location"])
    assert listed_names(page) == ["CI deploys"]
    assert plaintext not in page.content.decode()
    secret_part = plaintext.split("_")[-1][len(wanted.public_id):]
    assert secret_part not in page.content.decode()


def test_filters_by_environment_status_and_application(org, app, owner, login, make_key) -> None:
    other = ApplicationFactory(organization=org, name="Reporting")
    make_key(app, name="live active", environment="live")
    make_key(app, name="test active", environment="test")
    revoked, _ = make_key(app, name="test revoked", environment="test")
    ApiKey.objects.filter(pk=revoked.pk).update(revoked_at=timezone.now())
    expired, _ = make_key(other, name="live expired", environment="live")
    ApiKey.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    rotating, _ = make_key(other, name="live rotating", environment="live")
    ApiKey.objects.filter(pk=rotating.pk).update(rotated_at=timezone.now(),
                                                 expires_at=timezone.now() + timedelta(hours=1))
    client = login(owner)

    assert listed_names(client.get(_path(org), {"environment": "test"})) == ["test revoked", "test active"]
    assert listed_names(client.get(_path(org), {"status": "active"})) == ["test active", "live active"]
    assert listed_names(client.get(_path(org), {"status": "revoked"})) == ["test revoked"]
    assert listed_names(client.get(_path(org), {"status": "expired"})) == ["live expired"]
    assert listed_names(client.get(_path(org), {"status": "rotating"})) == ["live rotating"]
    assert listed_names(client.get(_path(org), {"application": other.pk})) == ["live rotating", "live expired"]
    assert listed_names(client.get(_path(org), {"application": app.pk, "environment": "live"})) == ["live active"]


@pytest.mark.parametrize("params, ignored", [
    ({"status": "frozen"}, "Status:"),
    ({"environment": "staging"}, "Environment:"),
    ({"application": "not-a-number"}, "Application:"),
])
def test_a_bad_filter_value_is_ignored_and_the_page_says_so(org, app, owner, login, make_key, params,
                                                           ignored) -> None:
    make_key(app, name="CI deploys")

    response = login(owner).get(_path(org), params)

    assert response.status_code == 200
    assert listed_names(response) == ["CI deploys"]
    assert ignored in response.content.decode()
    assert "It was ignored." in response.content.decode()


def test_another_organizations_keys_and_applications_are_neverlisted_names(
    org, app, other_app, owner, login, make_key
) -> None:
    make_key(app, name="Ours")
    theirs, _ = make_key(other_app, name="Theirs")
    client = login(owner)

    everything = client.get(_path(org))
    by_their_id = client.get(_path(org), {"q": theirs.public_id})
    by_their_app = client.get(_path(org), {"application": other_app.pk})

    assert listed_names(everything) == ["Ours"]
    assert "Theirs" not in everything.content.decode() and "Globex app" not in everything.content.decode()
    assert listed_names(by_their_id) == []
    assert listed_names(by_their_app) == ["Ours"]  # no such application here: the filter is ignored
    assert "Application:" in by_their_app.content.decode()


def test_the_list_of_another_organization_is_a_404(org, other_org, owner, login) -> None:
    assert login(owner).get(_path(other_org)).status_code == 404


def test_pages_of_25_keep_the_search_and_filters(org, app, owner, login, make_key) -> None:
    for n in range(30):
        make_key(app, name=f"worker {n:02}", environment="test")
    make_key(app, name="someone else", environment="test")
    client = login(owner)

    first = client.get(_path(org), {"q": "worker", "environment": "test"})
    second = client.get(_path(org), {"q": "worker", "environment": "test", "page": 2})

    assert listed_names(first) == [f"worker {n:02}" for n in range(29, 4, -1)]
    assert listed_names(second) == [f"worker {n:02}" for n in range(4, -1, -1)]
    assert 'href="?q=worker&amp;environment=test&amp;page=2" rel="next"' in first.content.decode()
    assert 'href="?q=worker&amp;environment=test&amp;page=1" rel="prev"' in second.content.decode()
    assert "Page 2 of 2 · 30 keys found" in second.content.decode()


@pytest.mark.parametrize("page, shown", [("99", 2), ("0", 2), ("two", 1), ("", 1)])
def test_a_page_out_of_range_shows_the_last_and_a_bad_one_the_first(org, app, owner, login, make_key, page,
                                                                   shown) -> None:
    for n in range(26):
        make_key(app, name=f"key {n}")

    response = login(owner).get(_path(org), {"page": page})

    assert response.status_code == 200
    assert response.context["listing"].page.number == shown


def test_a_viewer_reads_the_list_without_the_actions_they_cannot_take(org, app, viewer, developer, login,
                                                                     make_key) -> None:
    key, _ = make_key(app, name="CI deploys")
    rotate = reverse("key-rotate", args=[org.slug, key.public_id])

    as_viewer = login(viewer).get(_path(org))
    as_developer = login(developer).get(_path(org))

    assert listed_names(as_viewer) == ["CI deploys"]
    assert rotate not in as_viewer.content.decode()
    assert reverse("key-revoke", args=[org.slug, key.public_id]) not in as_viewer.content.decode()
    assert rotate in as_developer.content.decode()


@pytest.mark.parametrize("count", [1, 30])
def test_the_list_runs_the_same_queries_for_one_key_or_thirty(org, app, owner, login, make_key, count,
                                                              django_assert_num_queries) -> None:
    for n in range(count):
        make_key(app, name=f"key {n}")
    client = login(owner)

    # session, user, membership (the access check), the count, the member ids, the header's organizations, the
    # application choices and the page
    with django_assert_num_queries(8):
        response = client.get(_path(org), {"environment": "live"})

    assert len(listed_names(response)) == min(count, 25)


@pytest.mark.parametrize("value", ["99999999999999999999999", "-1", "1.5"])
def test_an_application_id_no_database_could_hold_is_ignored_not_an_error(org, app, owner, login, make_key,
                                                                         value) -> None:
    make_key(app, name="CI deploys")

    response = login(owner).get(_path(org), {"application": value, "q": value})

    assert response.status_code == 200
    assert "Application:" in response.content.decode()
