"""The account-security mails (contract section 14): password changed, address changed, a second factor added or
removed, a new sign-in. Each has a text part in the portal's words, names the account and what changed, links with
``PORTAL_BASE_URL`` to the page to act on (which opens for the signed-in person, or asks them to sign in), says what
to do if it was not them, and holds no secret."""

from __future__ import annotations

import re

import pyotp
import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.test import Client

from accounts.roles import Role
from tests.accounts.test_two_factor import _activate_totp, _in_a_later_window
from tests.factories import PASSWORD, MembershipFactory, OrganizationFactory, UserFactory
from tests.helpers import committed

pytestmark = pytest.mark.django_db(transaction=True)

NEW_PASSWORD = "a-brand-new-passphrase-77"
CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"


@pytest.fixture
def person():
    user = UserFactory(email="ada@example.com")
    MembershipFactory(organization=OrganizationFactory(is_personal=True), role=Role.OWNER, user=user)
    return user


def _signed_in(email: str = "ada@example.com", password: str = PASSWORD, agent: str = "pytest") -> Client:
    client = Client(HTTP_USER_AGENT=agent)
    assert client.post("/accounts/login/", {"login": email, "password": password}).status_code == 302
    return client


def _links(body: str) -> list[str]:
    base = re.escape(django_settings.PORTAL_BASE_URL)
    return re.findall(rf"{base}(/[^\s)]*)", body)


def _read(message, *, account: str, what: str, client: Client) -> None:
    """What every security mail must hold, and its links opened as the person would."""
    assert message.body and not message.body.lstrip().startswith("<")
    assert "Thank you for using" not in message.body and "Hello from" not in message.body
    assert account in message.body and what in message.body
    assert "If it was not you" in message.body
    links = _links(message.body)
    assert links, message.body
    for path in links:
        response = client.get(path)
        assert response.status_code == 200 or (
            response.status_code == 302 and response["Location"].startswith("/accounts/login/")), path
    assert PASSWORD not in message.body and NEW_PASSWORD not in message.body


def _only(to: str):
    found = [m for m in mail.outbox if m.to == [to]]
    assert len(found) == 1, [m.subject for m in mail.outbox]
    return found[0]


def test_password_changed(person) -> None:
    client = _signed_in()
    with committed():
        response = client.post("/accounts/password/", {
            "old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 302
    message = _only("ada@example.com")
    assert "password" in message.subject.lower()
    _read(message, account="ada@example.com", what="password", client=client)
    assert "/accounts/password/reset/" in message.body
    _read(message, account="ada@example.com", what="password", client=Client())  # signed out: the login page


def test_address_changed_goes_to_the_old_address(person) -> None:
    client = _signed_in()
    client.post("/accounts/reauthenticate/", {"password": PASSWORD})
    with committed():
        client.post("/accounts/email/", {"email": "ada.new@example.org", "action_add": ""})
    link = re.search(r"https?://\S+(/accounts/confirm-email/\S+/)", _only("ada.new@example.org").body).group(1)
    mail.outbox.clear()
    with committed():
        assert client.post(link).status_code == 302
    message = _only("ada@example.com")
    assert "address" in message.subject.lower()
    _read(message, account="ada.new@example.org", what="ada@example.com", client=client)


def test_a_second_factor_added_and_removed(person) -> None:
    client = _signed_in()
    with committed():
        secret, _codes = _activate_totp(client)
    added = [m for m in mail.outbox if "added" in m.subject]
    assert len(added) == 1
    _read(added[0], account="ada@example.com", what="authenticator app", client=client)
    assert "/accounts/2fa/" in added[0].body and secret not in added[0].body
    mail.outbox.clear()

    later, clock = _in_a_later_window()
    with clock, committed():
        page = client.get("/accounts/2fa/totp/deactivate/")
        assert page.status_code == 200
        response = client.post("/accounts/2fa/totp/deactivate/", {"code": pyotp.TOTP(secret).at(later)})
    assert response.status_code == 302
    removed = [m for m in mail.outbox if "removed" in m.subject]
    assert len(removed) == 1
    _read(removed[0], account="ada@example.com", what="authenticator app", client=client)


def test_a_sign_in_from_a_new_browser(person) -> None:
    with committed():
        _signed_in(agent="first browser")
    mail.outbox.clear()
    with committed():
        client = _signed_in(agent=CHROME)
    message = _only("ada@example.com")
    _read(message, account="ada@example.com", what="Chrome on Windows", client=client)
    assert f"{django_settings.PORTAL_BASE_URL}/accounts/sessions/" in message.body


def test_password_reset_with_the_mailed_link(person) -> None:
    from tests.accounts.test_password_reset import _link, _request_reset

    requester = _request_reset("ada@example.com")
    link = _link()
    mail.outbox.clear()
    form = requester.get(link, follow=True)
    with committed():
        done = requester.post(form.redirect_chain[-1][0] if form.redirect_chain else link,
                              {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert done.status_code == 302
    message = _only("ada@example.com")
    assert "reset" in message.subject.lower()
    _read(message, account="ada@example.com", what="was reset", client=_signed_in(password=NEW_PASSWORD))
    assert link not in message.body
