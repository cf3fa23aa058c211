"""The mails waiting for the worker, in the admin: who, what and how the tries went, never the body."""

from __future__ import annotations

import pytest
from django.utils import timezone

from portal.mail import send_mail_after_commit
from portal.models import PendingMail

pytestmark = pytest.mark.django_db

LINK = "https://portal.example.com/accounts/password/reset/key/secret-token-1234/"


@pytest.fixture
def queued():
    return send_mail_after_commit(kind="account.password_reset_key", subject="[Developer Portal] Password Reset",
                                  body=f"Open {LINK}", html=f'<a href="{LINK}">Reset</a>',
                                  to=["ada@example.com", "grace@example.com"])


@pytest.fixture
def failed():
    row = send_mail_after_commit(kind="invitation", subject="Join Acme", body="Open the invitation",
                                 to=["x@example.com"])
    PendingMail.objects.filter(pk=row.pk).update(attempts=3, last_failure="SMTPServerDisconnected")
    return row


def test_the_list_shows_recipients_subject_status_and_attempts_but_never_the_body(staff_client, queued, failed):
    page = staff_client.get("/admin/portal/pendingmail/")

    assert page.status_code == 200
    body = page.content.decode()
    assert "[Developer Portal] Password Reset" in body and "ada@example.com, grace@example.com" in body
    assert "waiting for the worker" in body and "failed, to be tried again" in body
    assert "SMTPServerDisconnected" in body and "account.password_reset_key" in body
    assert "secret-token-1234" not in body and "Open the invitation" not in body


def test_a_mail_s_page_is_read_only_and_holds_no_body(staff_client, queued):
    url = f"/admin/portal/pendingmail/{queued.pk}/change/"
    PendingMail.objects.filter(pk=queued.pk).update(claimed_at=timezone.now())

    page = staff_client.get(url)

    assert page.status_code == 200
    body = page.content.decode()
    assert "being sent" in body and "ada@example.com" in body and "Created at" in body
    assert "secret-token-1234" not in body and queued.body_encrypted not in body
    assert 'name="subject"' not in body  # shown, not a form field
    assert staff_client.post(url, {"subject": "changed"}).status_code == 403
    assert staff_client.get("/admin/portal/pendingmail/add/").status_code == 403
    assert staff_client.post(f"/admin/portal/pendingmail/{queued.pk}/delete/", {"post": "yes"}).status_code == 403
    assert PendingMail.objects.get(pk=queued.pk).subject == "[Developer Portal] Password Reset"


def test_people_who_are_not_staff_are_sent_to_sign_in(owner, login, queued):
    response = login(owner).get("/admin/portal/pendingmail/")
    assert response.status_code == 302 and "/login/" in response["Location"]
