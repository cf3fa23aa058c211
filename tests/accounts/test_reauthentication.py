"""Pages that ask for the password again (allauth's ``ReauthenticationRequired``) answer with the re-authentication
page in both configurations a person runs: debug on as ``make dev`` runs it, debug off as production does. With debug
on the portal's own error pages must not answer such a page with a 500 before allauth can redirect."""

from __future__ import annotations

import time
from unittest import mock

import pytest
from django.test import Client

from accounts.roles import Role
from tests.factories import PASSWORD, MembershipFactory, OrganizationFactory, UserFactory
from tests.helpers import committed

pytestmark = pytest.mark.django_db

ASKING_PAGES = [
    ("get", "/accounts/2fa/totp/activate/", {}),
    ("get", "/accounts/2fa/webauthn/add/", {}),
    ("post", "/accounts/email/", {"email": "new@example.org", "action_add": ""}),
]


@pytest.fixture
def person():
    user = UserFactory(email="ada@example.com")
    MembershipFactory(organization=OrganizationFactory(is_personal=True), role=Role.OWNER, user=user)
    return user


def _signed_in(person) -> Client:
    client = Client(raise_request_exception=False)
    assert client.post("/accounts/login/", {"login": person.email, "password": PASSWORD}).status_code == 302
    return client


def _later(seconds: int):
    """The clock allauth reads to stamp a password entry and to decide whether it is recent enough, moved ahead."""
    return mock.patch("time.time", return_value=time.time() + seconds)


def _open(client: Client, method: str, path: str, data: dict):
    with committed():
        return getattr(client, method)(path, data)


@pytest.mark.parametrize("debug", [True, False])
@pytest.mark.parametrize(("method", "path", "data"), ASKING_PAGES)
def test_a_page_that_asks_for_the_password_again_redirects_to_it(person, settings, debug, method, path, data):
    settings.DEBUG = debug
    client = _signed_in(person)
    with _later(301):  # the sign-in's password entry is older than the 5-minute window
        response = _open(client, method, path, data)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/reauthenticate/")
        asked = client.get(response["Location"])
        assert asked.status_code == 200 and "password" in asked.content.decode().lower()
        again = client.post(response["Location"], {"password": PASSWORD})
        assert again.status_code == 302
        follow = client.get(path) if method == "get" else client.get("/accounts/email/")
        assert follow.status_code == 200


@pytest.mark.parametrize("debug", [True, False])
def test_after_the_window_passes_it_asks_again(person, settings, debug):
    settings.DEBUG = debug
    client = _signed_in(person)
    with _later(301):
        client.post("/accounts/reauthenticate/", {"password": PASSWORD})
        assert client.get("/accounts/2fa/totp/activate/").status_code == 200
    with _later(301 + 301):
        response = client.get("/accounts/2fa/totp/activate/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/reauthenticate/")
