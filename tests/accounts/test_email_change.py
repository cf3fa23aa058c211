"""Changing one's e-mail address (contract sections 11 and 14): one address per person, replaced only once the
new one is verified, and the old one told about it."""

from __future__ import annotations

import re

import pytest
from allauth.account.models import EmailAddress, EmailConfirmation
from django.core import mail
from django.test import Client

from accounts.models import User
from accounts.roles import Role
from accounts.verification import email_verified
from audit.models import AuditEvent
from tests.factories import PASSWORD, MembershipFactory, OrganizationFactory, UserFactory
from tests.helpers import committed

pytestmark = pytest.mark.django_db

LINK = re.compile(r"https?://\S+(/accounts/confirm-email/\S+/)")
SIGNUP_PASSWORD = "a-much-longer-passphrase-42"


@pytest.fixture
def person():
    user = UserFactory(email="ada@example.com")
    MembershipFactory(organization=OrganizationFactory(is_personal=True), role=Role.OWNER, user=user)
    return user


def _signed_in(email: str, password: str = PASSWORD) -> Client:
    """Signed in, and the password given again, as changing the address asks (``ACCOUNT_REAUTHENTICATION_REQUIRED``)."""
    client = Client()
    assert client.post("/accounts/login/", {"login": email, "password": password}).status_code == 302
    assert client.post("/accounts/reauthenticate/", {"password": password}).status_code == 302
    return client


def _change_to(client: Client, email: str):
    with committed():
        return client.post("/accounts/email/", {"email": email, "action_add": ""})


def _link_to(address: str) -> str:
    (message,) = [m for m in mail.outbox if m.to == [address]]
    return LINK.search(message.body).group(1)


def test_the_new_address_replaces_the_old_once_verified_and_the_old_one_is_told(person) -> None:
    client = _signed_in(person.email)
    page = client.get("/accounts/email/").content.decode()
    assert "You sign in with <strong>ada@example.com</strong>, a verified address." in page
    assert "Make primary" not in page and 'name="action_primary"' not in page

    assert _change_to(client, "ada.lovelace@example.org").status_code == 302

    person.refresh_from_db()
    assert person.email == "ada@example.com"  # not before the link is used
    page = client.get("/accounts/email/").content.decode()
    assert "Changing to <strong>ada.lovelace@example.org</strong>" in page and "Cancel the change" in page
    link = _link_to("ada.lovelace@example.org")
    mail.outbox.clear()

    with committed():
        assert client.post(link).status_code == 302

    person.refresh_from_db()
    assert person.email == "ada.lovelace@example.org" and email_verified(person)
    assert list(EmailAddress.objects.filter(user=person).values_list("email", "verified", "primary")) == [
        ("ada.lovelace@example.org", True, True)]
    (notice,) = mail.outbox
    assert notice.to == ["ada@example.com"] and "changed" in notice.subject.lower()
    assert "ada@example.com" in notice.body and "ada.lovelace@example.org" in notice.body
    event = AuditEvent.objects.get(action="user.email_changed")
    assert event.metadata == {"from": "ada@example.com", "to": "ada.lovelace@example.org"}
    assert event.organization.is_personal
    assert Client().post("/accounts/login/", {"login": "ada@example.com", "password": PASSWORD}).status_code == 200
    _signed_in("ada.lovelace@example.org")


def test_one_address_at_a_time_a_second_change_replaces_the_first(person) -> None:
    client = _signed_in(person.email)
    _change_to(client, "first@example.org")
    first_link = _link_to("first@example.org")
    _change_to(client, "second@example.org")

    assert sorted(EmailAddress.objects.filter(user=person).values_list("email", flat=True)) == [
        "ada@example.com", "second@example.org"]
    with committed():
        client.post(first_link)
    person.refresh_from_db()
    assert person.email == "ada@example.com"  # the first change was replaced: its link no longer works


def test_cancelling_a_change_keeps_the_address(person) -> None:
    client = _signed_in(person.email)
    _change_to(client, "first@example.org")
    client.post("/accounts/email/", {"email": "first@example.org", "action_remove": ""})

    assert list(EmailAddress.objects.filter(user=person).values_list("email", flat=True)) == ["ada@example.com"]
    person.refresh_from_db()
    assert person.email == "ada@example.com" and email_verified(person)


def test_someone_not_verified_yet_keeps_signing_in_with_their_address_until_the_new_one_is_verified() -> None:
    client = Client()
    with committed():
        client.post("/accounts/signup/", {"email": "typo@exmaple.com", "password1": SIGNUP_PASSWORD,
                                          "password2": SIGNUP_PASSWORD})
    client = _signed_in("typo@exmaple.com", SIGNUP_PASSWORD)
    assert "which is not verified yet" in client.get("/accounts/email/").content.decode()

    assert _change_to(client, "right@example.com").status_code == 302

    person = User.objects.get(email="typo@exmaple.com")  # the login is kept, not emptied
    with committed():
        client.post(_link_to("right@example.com"))
    person.refresh_from_db()
    assert person.email == "right@example.com" and email_verified(person)
    assert list(EmailAddress.objects.filter(user=person).values_list("email", flat=True)) == ["right@example.com"]


def test_an_address_of_another_account_answers_the_same_and_changes_nothing(person) -> None:
    other = UserFactory(email="grace@example.com")
    client = _signed_in(person.email)

    free = _change_to(client, "free@example.org")
    taken = _change_to(client, "GRACE@example.com")

    assert (free.status_code, free["Location"]) == (taken.status_code, taken["Location"])
    (to_owner,) = [m for m in mail.outbox if m.to == ["grace@example.com"]]
    assert not LINK.search(to_owner.body)  # the owner is told; no link that could move the address is mailed
    for confirmation in EmailConfirmation.objects.filter(email_address__email__iexact="grace@example.com"):
        with committed():
            client.post(f"/accounts/confirm-email/{confirmation.key}/")
    person.refresh_from_db()
    other.refresh_from_db()
    assert person.email == "ada@example.com" and other.email == "grace@example.com"


def test_changing_the_address_asks_for_the_password_again(person) -> None:
    client = Client()
    client.post("/accounts/login/", {"login": person.email, "password": PASSWORD})

    response = _change_to(client, "new@example.org")

    assert response.status_code == 302 and response["Location"].startswith("/accounts/reauthenticate/")
    assert list(EmailAddress.objects.filter(user=person).values_list("email", flat=True)) == ["ada@example.com"]
    assert mail.outbox == []


def _messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def test_a_taken_address_answers_with_the_same_page_and_message_and_its_owner_is_mailed(person) -> None:
    other = UserFactory(email="grace@example.com")
    EmailAddress.objects.update_or_create(user=other, email="grace@example.com", defaults={"verified": True})
    answers = {}
    for address in ("grace@example.com", "free@example.org"):
        client = _signed_in(person.email)
        client.get("/dashboard/")  # the sign-in's own message is read here
        with committed():
            response = client.post("/accounts/email/", {"email": address, "action_add": ""}, follow=True)
        page = response.content.decode().replace(address, "<address>")
        page = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", page)
        answers[address] = (response.status_code, response.redirect_chain, _messages(response), page)
        assert _messages(response) == [f"Confirmation email sent to {address}."]

    taken, free = answers["grace@example.com"], answers["free@example.org"]
    assert taken[:2] == free[:2] and taken[3] == free[3]
    (to_owner,) = [m for m in mail.outbox if m.to == ["grace@example.com"]]
    assert "tried" in to_owner.subject and "/accounts/confirm-email/" not in to_owner.body
    assert "ada@example.com" not in to_owner.body  # the owner is told, the one who asked is not named
    assert LINK.search(_only_to("free@example.org").body)


def _only_to(address: str):
    (message,) = [m for m in mail.outbox if m.to == [address]]
    return message
