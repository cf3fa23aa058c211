"""Forgot password, as a person would go through it: the mail, a link that works once within an hour, every
other session ended, and the same answer whether the address has an account or not (contract section 11)."""

from __future__ import annotations

import re
from datetime import timedelta
from unittest import mock

import pytest
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core import mail
from django.test import Client

from audit.models import AuditEvent
from tests.factories import PASSWORD, MembershipFactory, OrganizationFactory
from tests.helpers import committed

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-brand-new-passphrase-77"
LINK = re.compile(r"https?://\S+/accounts/password/reset/key/\S+/")


@pytest.fixture
def person():
    personal = OrganizationFactory(is_personal=True)
    return MembershipFactory(organization=personal, role="owner").user


def _signed_in(user) -> Client:
    client = Client()
    assert client.post("/accounts/login/", {"login": user.email, "password": PASSWORD}).status_code == 302
    return client


def _request_reset(email: str) -> Client:
    client = Client()
    with committed():
        response = client.post("/accounts/password/reset/", {"email": email})
    assert response.status_code == 302
    return client


def _link() -> str:
    found = LINK.search(mail.outbox[-1].body)
    assert found, mail.outbox[-1].body
    return "/" + found.group(0).split("/", 3)[3]


def _set_password(client: Client, link: str):
    form = client.get(link, follow=True)
    return client.post(form.redirect_chain[-1][0] if form.redirect_chain else link,
                       {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})


def test_a_known_and_an_unknown_address_get_the_same_answer(person) -> None:
    with committed():
        known = Client().post("/accounts/password/reset/", {"email": person.email}, follow=True)
        unknown = Client().post("/accounts/password/reset/", {"email": "nobody@example.com"}, follow=True)

    assert known.status_code == unknown.status_code == 200
    assert known.redirect_chain == unknown.redirect_chain
    strip = lambda body: re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", body)  # noqa: E731
    assert strip(known.content.decode()) == strip(unknown.content.decode())
    assert [m.to for m in mail.outbox] == [[person.email]]


def test_the_reset_link_sets_a_new_password_once_and_ends_every_other_session(person) -> None:
    other_browser = _signed_in(person)
    assert other_browser.get("/dashboard/").status_code == 200
    requester = _request_reset(person.email)
    link = _link()
    assert NEW_PASSWORD not in mail.outbox[-1].body

    done = _set_password(requester, link)

    assert done.status_code == 302
    person.refresh_from_db()
    assert person.check_password(NEW_PASSWORD)
    assert other_browser.get("/dashboard/")["Location"].startswith("/accounts/login/")
    assert Client().post("/accounts/login/", {"login": person.email, "password": PASSWORD}).status_code == 200
    assert Client().post("/accounts/login/", {"login": person.email, "password": NEW_PASSWORD}).status_code == 302

    again = Client().get(link, follow=True)
    assert "password reset link was invalid" in again.content.decode().lower().replace("\n", " ")
    actions = set(AuditEvent.objects.filter(organization__memberships__user=person).values_list("action", flat=True))
    assert {"user.password_reset_requested", "user.password_reset"} <= actions


def test_the_reset_link_expires_after_an_hour(person) -> None:
    requester = _request_reset(person.email)
    link = _link()
    later = PasswordResetTokenGenerator()._now() + timedelta(minutes=61)

    with mock.patch.object(PasswordResetTokenGenerator, "_now", return_value=later):
        page = requester.get(link, follow=True)

    assert "invalid" in page.content.decode().lower()
    person.refresh_from_db()
    assert person.check_password(PASSWORD)


def test_changing_the_password_ends_every_other_session_but_this_one(person) -> None:
    this_browser, other_browser = _signed_in(person), _signed_in(person)

    with committed():
        response = this_browser.post("/accounts/password/change/", {
            "oldpassword": PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD})

    assert response.status_code == 302
    assert this_browser.get("/dashboard/").status_code == 200
    assert other_browser.get("/dashboard/")["Location"].startswith("/accounts/login/")
    assert [m.to for m in mail.outbox] == [[person.email]]  # "your password was changed"
    assert "password" in mail.outbox[0].subject.lower() and NEW_PASSWORD not in mail.outbox[0].body
