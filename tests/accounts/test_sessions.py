"""The sessions page (/accounts/sessions/): browser, IP, last seen; end one, or all others (contract section 11)."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from accounts.roles import Role
from audit.models import AuditEvent
from tests.factories import PASSWORD, MembershipFactory, OrganizationFactory
from tests.helpers import committed

pytestmark = pytest.mark.django_db

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0"
CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0 Safari/537.36"


@pytest.fixture
def person():
    return MembershipFactory(organization=OrganizationFactory(is_personal=True), role=Role.OWNER).user


def _browser(user, agent: str, ip: str) -> Client:
    client = Client(HTTP_USER_AGENT=agent, REMOTE_ADDR=ip)
    assert client.post("/accounts/login/", {"login": user.email, "password": PASSWORD}).status_code == 302
    return client


def _end_urls(page: str) -> list[str]:
    return re.findall(r'action="(/accounts/sessions/\d+/end/)"', page)


def test_the_page_lists_each_browser_with_its_ip_and_ends_one(person) -> None:
    firefox = _browser(person, FIREFOX, "203.0.113.7")
    chrome = _browser(person, CHROME, "198.51.100.9")

    page = firefox.get("/accounts/sessions/")
    body = page.content.decode()
    assert page.status_code == 200
    assert "Firefox on Linux" in body and "Chrome on Windows" in body
    assert "203.0.113.7" in body and "198.51.100.9" in body and "Last seen" in body
    assert "This session" in body

    chrome_row = body.split("Chrome on Windows", 1)[1]
    firefox.post(_end_urls(chrome_row)[0])

    assert chrome.get("/dashboard/")["Location"].startswith("/accounts/login/")
    assert firefox.get("/dashboard/").status_code == 200
    event = AuditEvent.objects.get(action="user.session_ended")
    assert event.organization.is_personal and event.metadata["ip"] == "198.51.100.9"


def test_end_all_other_sessions_keeps_this_one(person) -> None:
    this = _browser(person, FIREFOX, "203.0.113.7")
    others = [_browser(person, CHROME, "198.51.100.9"), _browser(person, CHROME, "198.51.100.10")]

    this.post("/accounts/sessions/")

    assert this.get("/dashboard/").status_code == 200
    assert all(other.get("/dashboard/").status_code == 302 for other in others)
    assert AuditEvent.objects.filter(action="user.session_ended").count() == 2


def test_someone_else_s_session_is_a_404(person) -> None:
    stranger = MembershipFactory(organization=OrganizationFactory(is_personal=True), role=Role.OWNER).user
    theirs = _browser(stranger, CHROME, "198.51.100.9")
    their_end = _end_urls(theirs.get("/accounts/sessions/").content.decode())[0]

    assert _browser(person, FIREFOX, "203.0.113.7").post(their_end).status_code == 404
    assert theirs.get("/dashboard/").status_code == 200


def test_a_sign_in_from_a_browser_not_seen_before_mails_the_person(person) -> None:
    from django.core import mail

    with committed():
        _browser(person, FIREFOX, "203.0.113.7")
        _browser(person, FIREFOX, "203.0.113.8")
    assert mail.outbox == []  # the first browser of an account, then the same one again

    with committed():
        _browser(person, CHROME, "198.51.100.9")

    (message,) = mail.outbox
    assert message.to == [person.email] and "New sign-in" in message.subject
    assert "Chrome on Windows" in message.body and "198.51.100.9" in message.body
    assert "/accounts/sessions/" in message.body and PASSWORD not in message.body
