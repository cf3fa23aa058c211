"""Finding a key in the organization's list of keys, as a person does it in a browser."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from accounts.roles import Role
from tests.factories import ApplicationFactory, MembershipFactory, OrganizationFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def keys(make_key):
    organization = OrganizationFactory(name="Acme", slug="acme")
    owner = MembershipFactory(organization=organization, role=Role.OWNER).user
    application = ApplicationFactory(organization=organization, name="Billing sync")
    wanted, plaintext = make_key(application, "READ_ONLY", name="CI deploys")
    make_key(application, "READ_ONLY", name="Nightly report")
    return {"owner": owner, "key": wanted, "plaintext": plaintext}


def _rows(page) -> list[str]:
    return [name.strip() for name in page.locator("tbody tr td:first-child").all_inner_texts()]


def test_search_finds_a_key_by_name_and_by_id(new_page, keys) -> None:
    page = new_page(user=keys["owner"])
    page.goto("/orgs/acme/keys/")
    assert sorted(_rows(page)) == ["CI deploys", "Nightly report"]

    page.get_by_role("searchbox", name="Search").fill("nightly")
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"\?q=nightly"))
    assert _rows(page) == ["Nightly report"]

    page.get_by_role("searchbox", name="Search").fill(keys["key"].public_id)
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(rf"\?q={keys['key'].public_id}"))
    assert _rows(page) == ["CI deploys"]


def test_a_pasted_key_is_sent_as_its_public_id_only(new_page, keys) -> None:
    page = new_page(user=keys["owner"])
    page.goto("/orgs/acme/keys/")
    sent: list[str] = []
    page.on("request", lambda request: sent.append(request.url))

    page.get_by_role("searchbox", name="Search").fill(keys["plaintext"])
    page.get_by_role("button", name="Search").click()

    expect(page).to_have_url(re.compile(rf"\?q={keys['key'].public_id}&"))
    assert _rows(page) == ["CI deploys"]
    assert not [url for url in sent if keys["plaintext"] in url]
    assert keys["plaintext"] not in page.content()
