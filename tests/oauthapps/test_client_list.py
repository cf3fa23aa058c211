"""The organization's list of OAuth clients (/orgs/<slug>/clients/): search, filters and pages."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import ApplicationFactory
from tests.helpers import listed_names

pytestmark = pytest.mark.django_db


def _path(org) -> str:
    return reverse("client-list", args=[org.slug])


def test_search_finds_a_client_by_part_of_its_name_or_its_client_id(org, app, owner, login, make_client) -> None:
    wanted, _ = make_client(app, name="Billing worker")
    make_client(app, name="Mobile app")
    client = login(owner)

    by_name = client.get(_path(org), {"q": "billing"})
    by_id = client.get(_path(org), {"q": wanted.client_id})

    assert by_name.status_code == 200
    assert listed_names(by_name) == ["Billing worker"]
    assert listed_names(by_id) == ["Billing worker"]
    assert wanted.client_id in by_id.content.decode()


def test_filters_by_application_and_type(org, app, owner, login, make_client) -> None:
    other = ApplicationFactory(organization=org, name="Reporting")
    make_client(app, name="Confidential one")
    make_client(other, name="Public one", grants=("authorization_code",), client_type="public")
    client = login(owner)

    assert listed_names(client.get(_path(org), {"application": other.pk})) == ["Public one"]
    assert listed_names(client.get(_path(org), {"client_type": "confidential"})) == ["Confidential one"]
    bad = client.get(_path(org), {"client_type": "secretive"})
    assert sorted(listed_names(bad)) == ["Confidential one", "Public one"]
    assert "Type:" in bad.content.decode() and "It was ignored." in bad.content.decode()


def test_another_organizations_clients_are_neverlisted_names(org, app, other_app, owner, login, make_client) -> None:
    make_client(app, name="Ours")
    theirs, _ = make_client(other_app, name="Theirs")
    client = login(owner)

    assert listed_names(client.get(_path(org))) == ["Ours"]
    assert listed_names(client.get(_path(org), {"q": theirs.client_id})) == []
    assert theirs.client_id not in client.get(_path(org)).content.decode()


def test_pages_of_25(org, app, owner, login, make_client) -> None:
    for n in range(30):
        make_client(app, name=f"client {n:02}")
    client = login(owner)

    second = client.get(_path(org), {"q": "client", "page": 2})

    assert listed_names(second) == [f"client {n:02}" for n in range(4, -1, -1)]
    assert 'href="?q=client&amp;page=1" rel="prev"' in second.content.decode()


def test_a_viewer_reads_the_list(org, app, viewer, login, make_client) -> None:
    make_client(app, name="Billing worker")

    response = login(viewer).get(_path(org))

    assert response.status_code == 200
    assert listed_names(response) == ["Billing worker"]


@pytest.mark.parametrize("count", [1, 30])
def test_the_list_runs_the_same_queries_for_one_client_or_thirty(org, app, owner, login, make_client, count,
                                                                 django_assert_num_queries) -> None:
    for n in range(count):
        make_client(app, name=f"client {n}")
    client = login(owner)

    # session, user, membership, the count, the member ids, the header's organizations, the application
    # choices and the page
    with django_assert_num_queries(8):
        response = client.get(_path(org))

    assert len(listed_names(response)) == min(count, 25)
