"""Search and pages on the list of applications, and the application page's first 25 keys and clients."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import ApplicationFactory
from tests.helpers import listed_names

pytestmark = pytest.mark.django_db


def _path(org) -> str:
    return reverse("app-list", args=[org.slug])


def test_search_finds_an_application_by_its_name_or_description(org, owner, login) -> None:
    ApplicationFactory(organization=org, name="Billing sync")
    ApplicationFactory(organization=org, name="Reporting", description="Nightly billing reports")
    ApplicationFactory(organization=org, name="Mobile")
    client = login(owner)

    assert sorted(listed_names(client.get(_path(org), {"q": "billing"}))) == ["Billing sync", "Reporting"]
    assert listed_names(client.get(_path(org), {"q": "mob"})) == ["Mobile"]
    nothing = client.get(_path(org), {"q": "nothing like it"})
    assert "No application matches." in nothing.content.decode()


def test_applications_come_in_pages_of_25(org, owner, login) -> None:
    for n in range(30):
        ApplicationFactory(organization=org, name=f"app {n:02}")
    client = login(owner)

    first = client.get(_path(org))
    second = client.get(_path(org), {"page": 2})

    assert len(listed_names(first)) == 25
    assert sorted(listed_names(second)) == [f"app {n:02}" for n in range(5)]
    assert "Page 2 of 2 · 30 applications" in second.content.decode()


def test_another_organizations_applications_are_neverlisted_names(org, other_app, owner, login) -> None:
    ApplicationFactory(organization=org, name="Ours")

    response = login(owner).get(_path(org), {"q": "Globex"})

    assert listed_names(response) == []
    assert "Globex app" not in response.content.decode()


def test_a_viewer_reads_the_list_but_is_not_offered_the_form(org, viewer, login) -> None:
    ApplicationFactory(organization=org, name="Ours")

    response = login(viewer).get(_path(org))

    assert listed_names(response) == ["Ours"]
    assert "Create application" not in response.content.decode()


@pytest.mark.parametrize("count", [1, 30])
def test_the_list_runs_the_same_queries_for_one_application_or_thirty(org, owner, login, count,
                                                                      django_assert_num_queries) -> None:
    for n in range(count):
        ApplicationFactory(organization=org, name=f"app {n}")
    client = login(owner)

    # session, user, membership, the count, the header's organizations and the page (with its key counts)
    with django_assert_num_queries(6):
        response = client.get(_path(org), {"q": "app"})

    assert len(listed_names(response)) == min(count, 25)


def test_the_application_page_shows_25_keys_and_links_to_all_of_them(org, app, owner, login, make_key) -> None:
    for n in range(27):
        make_key(app, name=f"key {n:02}")
    client = login(owner)

    response = client.get(reverse("app-detail", args=[org.slug, app.pk]))

    body = response.content.decode()
    assert "key 26" in body and "key 02" in body and "key 01<" not in body
    link = f'{reverse("key-list", args=[org.slug])}?application={app.pk}'
    assert f'href="{link}">All 27 keys of Billing sync' in body
    listed = client.get(link)
    assert len(listed.context["listing"].page) == 25
    assert listed.context["listing"].page.paginator.count == 27


def test_the_application_page_links_to_all_its_clients_past_25(org, app, owner, login, make_client) -> None:
    for n in range(26):
        make_client(app, name=f"client {n:02}")

    body = login(owner).get(reverse("app-detail", args=[org.slug, app.pk])).content.decode()

    assert f'href="{reverse("client-list", args=[org.slug])}?application={app.pk}">All 26 OAuth clients' in body


def test_a_few_keys_need_no_link(org, app, owner, login, make_key) -> None:
    make_key(app, name="only key")

    body = login(owner).get(reverse("app-detail", args=[org.slug, app.pk])).content.decode()

    assert "only key" in body
    assert f'{reverse("key-list", args=[org.slug])}?application=' not in body
