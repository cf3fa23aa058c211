"""Search, role filter and pages on the list of an organization's members."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import Membership
from accounts.roles import Role
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def _path(org) -> str:
    return reverse("org-members", args=[org.slug])


def _listed(response) -> list[str]:
    return [row.membership.user.email for row in response.context["rows"]]


def test_search_finds_a_member_by_email_or_name(org, owner, login) -> None:
    MembershipFactory(organization=org, user=UserFactory(email="ada@example.com", full_name="Ada Lovelace"))
    MembershipFactory(organization=org, user=UserFactory(email="grace@example.com", full_name="Grace Hopper"))
    client = login(owner)

    assert _listed(client.get(_path(org), {"q": "ada@"})) == ["ada@example.com"]
    assert _listed(client.get(_path(org), {"q": "hopper"})) == ["grace@example.com"]
    assert "No member matches." in client.get(_path(org), {"q": "nobody"}).content.decode()


def test_filter_by_role_and_bad_roles_are_ignored(org, owner, login) -> None:
    viewer = MembershipFactory(organization=org, role=Role.VIEWER).user
    client = login(owner)

    assert _listed(client.get(_path(org), {"role": "viewer"})) == [viewer.email]
    bad = client.get(_path(org), {"role": "emperor"})
    assert bad.status_code == 200
    assert sorted(_listed(bad)) == sorted([owner.email, viewer.email])
    assert "Role:" in bad.content.decode() and "It was ignored." in bad.content.decode()


def test_members_come_in_pages_of_25_keeping_the_filter(org, owner, login) -> None:
    MembershipFactory.create_batch(30, organization=org, role=Role.DEVELOPER)
    client = login(owner)

    second = client.get(_path(org), {"role": "developer", "page": 2})

    assert len(_listed(second)) == 5
    assert 'href="?role=developer&amp;page=1" rel="prev"' in second.content.decode()
    assert "Page 2 of 2 · 30 members found" in second.content.decode()


def test_another_organizations_members_are_never_listed(org, owner, outsider, login) -> None:
    response = login(owner).get(_path(org), {"q": outsider.email})

    assert _listed(response) == []
    assert outsider.email not in response.content.decode().replace(f'value="{outsider.email}"', "")


def test_a_viewer_reads_the_list_without_the_actions_of_admins(org, viewer, developer, login) -> None:
    response = login(viewer).get(_path(org))

    body = response.content.decode()
    membership = Membership.objects.get(user=developer)
    assert developer.email in _listed(response)
    assert reverse("member-role", args=[org.slug, membership.pk]) not in body
    assert reverse("member-remove", args=[org.slug, membership.pk]) not in body


@pytest.mark.parametrize("count", [1, 30])
def test_the_list_runs_the_same_queries_for_one_member_or_thirty(org, owner, login, count,
                                                                 django_assert_num_queries) -> None:
    MembershipFactory.create_batch(count, organization=org)
    client = login(owner)

    # session, user, membership, the count, the page (with its people), the invitations and the header's
    # organizations
    with django_assert_num_queries(7):
        response = client.get(_path(org), {"q": "example"})

    assert len(_listed(response)) == min(count + 1, 25)
