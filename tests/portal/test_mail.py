"""Mail never changes the answer of a request whose change committed: a failure is logged and the mail is kept
(``portal.mail``) until ``send_pending_mail`` sends it. ``EMAIL_FILE_PATH`` names the file backend's folder."""

from __future__ import annotations

import logging
import re
import smtplib
from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.core.management import call_command

from accounts.invitations.services import invitation_by_token
from accounts.models import Invitation
from portal.encryption import decrypt, encrypt
from portal.mail import send_pending_mail
from portal.models import PendingMail
from tests.helpers import stored_text_containing
from tests.portal.test_settings import production_env, run_python

FAILING = "tests.portal.test_mail.FailingBackend"
LOCMEM = "django.core.mail.backends.locmem.EmailBackend"


class FailingBackend(BaseEmailBackend):
    """A mail server that is down."""

    def send_messages(self, email_messages):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


def token_of(text: str) -> str:
    return re.search(r"/invitations/([^/\s]+)/", text).group(1)


@pytest.mark.django_db(transaction=True)  # real commits: the mail is sent inside the request, as in production
def test_an_invitation_is_201_and_kept_when_the_mail_backend_fails(client_a, owner, settings, caplog):
    settings.EMAIL_BACKEND = FAILING

    with caplog.at_level(logging.ERROR, logger="portal.mail"):
        response = client_a.post("/api/v1/invitations", {"email": "new@example.com", "role": "developer"},
                                 format="json")

    assert response.status_code == 201, response.content
    invitation = Invitation.objects.get(pk=response.json()["id"])
    pending = PendingMail.objects.get()
    assert pending.recipients == ["new@example.com"] and pending.attempts == 1
    assert pending.last_failure == "SMTPServerDisconnected" and pending.claimed_at is None
    token = token_of(decrypt(pending.body_encrypted))
    assert invitation_by_token(token) == invitation
    assert "was not sent (SMTPServerDisconnected)" in caplog.text
    assert token not in caplog.text and "Connection unexpectedly closed" not in caplog.text
    assert stored_text_containing(token) == []  # kept encrypted, never in clear

    # The server is back: the kept mail goes out once, with the link that works, and is no longer kept.
    settings.EMAIL_BACKEND = LOCMEM
    out = StringIO()
    call_command("send_pending_mail", stdout=out)
    assert out.getvalue().splitlines() == ["sent: 1", "pending: 0"]
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["new@example.com"]
    assert invitation_by_token(token_of(mail.outbox[0].body)) == invitation
    assert not PendingMail.objects.exists()
    call_command("send_pending_mail", stdout=StringIO())
    assert len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_a_dashboard_invitation_is_made_when_the_mail_backend_fails(login, owner, org, settings):
    settings.EMAIL_BACKEND = FAILING

    response = login(owner).post(f"/orgs/{org.slug}/invitations/", {"email": "new@example.com", "role": "developer"})

    assert response.status_code == 302
    assert Invitation.objects.filter(email="new@example.com").exists() and PendingMail.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_mail_that_keeps_failing_stays_pending(client_a, owner, settings):
    settings.EMAIL_BACKEND = FAILING
    client_a.post("/api/v1/invitations", {"email": "new@example.com", "role": "developer"}, format="json")

    out = StringIO()
    call_command("send_pending_mail", stdout=out)

    assert out.getvalue().splitlines() == ["sent: 0", "pending: 1"]
    assert PendingMail.objects.get().attempts == 2


@pytest.mark.django_db
def test_a_sent_mail_is_not_kept(client_a, owner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        client_a.post("/api/v1/invitations", {"email": "new@example.com", "role": "developer"}, format="json")

    assert len(mail.outbox) == 1 and not PendingMail.objects.exists()


@pytest.mark.django_db
def test_an_invitation_that_rolls_back_keeps_no_mail(client_a, owner):
    client_a.post("/api/v1/invitations", {"email": "new@example.com", "role": "owner"}, format="json")  # refused

    assert not PendingMail.objects.exists() and mail.outbox == []


@pytest.mark.django_db
def test_with_the_file_backend_the_invitation_lands_in_the_folder(client_a, owner, settings, tmp_path,
                                                                  django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path)

    with django_capture_on_commit_callbacks(execute=True):
        response = client_a.post("/api/v1/invitations", {"email": "new@example.com", "role": "developer"},
                                 format="json")

    assert response.status_code == 201
    [written] = list(tmp_path.iterdir())
    text = written.read_text()
    assert "To: new@example.com" in text and "/invitations/" in text
    assert invitation_by_token(token_of(text)).pk == response.json()["id"]


def test_email_file_path_is_read_from_the_environment(tmp_path):
    folder = tmp_path / "mails"
    env = production_env(tmp_path, EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
                         EMAIL_FILE_PATH=str(folder))
    script = ("import django; django.setup(); from django.core.mail import send_mail; "
              "send_mail('Hello', 'Body', 'portal@example.com', ['someone@example.com'])")

    result = run_python(env, "-c", script)

    assert result.returncode == 0, result.stderr
    [written] = list(folder.iterdir())
    assert "Subject: Hello" in written.read_text()


def test_without_debug_the_default_backend_is_smtp(tmp_path):
    script = "import django; django.setup(); from django.conf import settings; print(settings.EMAIL_BACKEND)"

    result = run_python(production_env(tmp_path), "-c", script)

    assert result.stdout.strip() == "django.core.mail.backends.smtp.EmailBackend", result.stderr



@pytest.mark.django_db
def test_rotating_encryption_keys_re_encrypts_pending_mail(settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.PORTAL = {**settings.PORTAL, "ENCRYPTION_KEYS": [old]}
    pending = PendingMail.objects.create(subject="s", body_encrypted=encrypt("the link"), recipients=["a@example.com"])

    settings.PORTAL = {**settings.PORTAL, "ENCRYPTION_KEYS": [new, old]}
    call_command("rotate_encryption_keys", stdout=StringIO())
    settings.PORTAL = {**settings.PORTAL, "ENCRYPTION_KEYS": [new]}

    assert send_pending_mail(pending.pk) and mail.outbox[0].body == "the link"
