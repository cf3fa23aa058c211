"""Which organization a session call to the API acts in: the X-Organization header, else the one last opened in
the dashboard (contract section 11)."""

from __future__ import annotations

import pytest

from accounts.roles import Role
from tests.factories import ApplicationFactory, MembershipFactory, OrganizationFactory

pytestmark = pytest.mark.django_db


def _names(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [app["name"] for app in response.json()["results"]]


def test_x_organization_names_the_organization_of_a_session_call(org, other_org, owner, login) -> None:
    MembershipFactory(organization=other_org, user=owner, role=Role.VIEWER)
    ApplicationFactory(organization=org, name="Acme app")
    ApplicationFactory(organization=other_org, name="Globex app")
    browser = login(owner)

    assert _names(browser.get("/api/v1/applications", HTTP_X_ORGANIZATION=org.slug)) == ["Acme app"]
    assert _names(browser.get("/api/v1/applications", HTTP_X_ORGANIZATION=other_org.slug)) == ["Globex app"]
    me = browser.get("/api/v1/me", HTTP_X_ORGANIZATION=other_org.slug).json()
    assert me["authType"] == "session" and other_org.slug in str(me["organization"])


def test_a_slug_the_person_does_not_belong_to_is_a_404(org, owner, login) -> None:
    stranger = OrganizationFactory(slug="stranger")
    ApplicationFactory(organization=stranger, name="Secret app")

    for slug in ("stranger", "no-such-org"):
        response = login(owner).get("/api/v1/applications", HTTP_X_ORGANIZATION=slug)
        assert response.status_code == 404
        assert response.json()["code"] == "NOT_FOUND"


def test_without_the_header_the_call_acts_in_the_organization_last_opened(org, other_org, owner, login) -> None:
    MembershipFactory(organization=other_org, user=owner, role=Role.VIEWER)
    ApplicationFactory(organization=org, name="Acme app")
    ApplicationFactory(organization=other_org, name="Globex app")
    browser = login(owner)

    browser.get(f"/orgs/{other_org.slug}/")
    assert _names(browser.get("/api/v1/applications")) == ["Globex app"]
    browser.get(f"/orgs/{org.slug}/")
    assert _names(browser.get("/api/v1/applications")) == ["Acme app"]


def test_api_keys_ignore_the_header(org, other_org, owner, app, make_key, api_client) -> None:
    MembershipFactory(organization=other_org, user=owner, role=Role.OWNER)
    _key, plaintext = make_key(app, "READ_ONLY")

    response = api_client(plaintext).get("/api/v1/applications", HTTP_X_ORGANIZATION=other_org.slug)

    assert _names(response) == [app.name]
