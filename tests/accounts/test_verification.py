"""E-mail verification, as a newcomer lives it: signed in at once, test keys only, the link in the mail, then
live keys, OAuth clients and invitations (contract sections 4 and 11)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import Organization, User
from accounts.roles import Role
from accounts.verification import email_verified
from applications.models import Application
from audit.models import AuditEvent
from tests.factories import UserFactory
from tests.helpers import committed

pytestmark = pytest.mark.django_db

PASSWORD = "a-much-longer-passphrase-42"
LINK = re.compile(r"https?://[^\s]+/accounts/confirm-email/[^\s]+/")


def _sign_up(email: str = "new@example.com") -> tuple[Client, Organization, Application]:
    client = Client()
    with committed():
        response = client.post(reverse("signup"), {"email": email, "password1": PASSWORD, "password2": PASSWORD})
    assert response.status_code == 302
    organization = Organization.objects.get(memberships__user__email=email)
    client.post(reverse("app-list", args=[organization.slug]), {"name": "First app"})
    return client, organization, Application.objects.get(organization=organization)


def _key_form(environment: str) -> dict:
    return {"name": f"{environment} key", "scope_preset": "READ_ONLY", "expires_in_days": "30",
            "environment": environment}


def _link(message) -> str:
    found = LINK.search(message.body)
    assert found, message.body
    return found.group(0)


def _path(url: str) -> str:
    return "/" + url.split("/", 3)[3]


def test_sign_up_mail_verify_then_live_keys_are_allowed() -> None:
    client, organization, app = _sign_up()
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["new@example.com"]
    link = _link(mail.outbox[0])

    refused = client.post(reverse("key-create", args=[organization.slug, app.pk]), _key_form("live"))
    assert refused.status_code == 403
    page = refused.content.decode()
    assert "Verify your email address first" in page and "Send the link again" in page
    assert reverse("verification-resend") in page
    assert not app.api_keys.exists()

    test_key = client.post(reverse("key-create", args=[organization.slug, app.pk]), _key_form("test"))
    assert test_key.status_code == 302
    assert list(app.api_keys.values_list("environment", flat=True)) == ["test"]

    confirm_page = client.get(_path(link))
    assert confirm_page.status_code == 200 and "new@example.com" in confirm_page.content.decode()
    assert not email_verified(User.objects.get(email="new@example.com"))  # opening the link alone does not verify
    assert client.post(_path(link)).status_code == 302
    assert email_verified(User.objects.get(email="new@example.com"))
    event = AuditEvent.objects.get(action="user.email_verified")
    assert event.organization_id == organization.pk

    live = client.post(reverse("key-create", args=[organization.slug, app.pk]), _key_form("live"))
    assert live.status_code == 302
    assert sorted(app.api_keys.values_list("environment", flat=True)) == ["live", "test"]


def test_the_link_works_once() -> None:
    client, _organization, _app = _sign_up()
    link = _path(_link(mail.outbox[0]))
    client.post(link)

    again = client.get(link)
    assert "expired or is invalid" in again.content.decode()
    assert AuditEvent.objects.filter(action="user.email_verified").count() == 1


def test_the_link_expires_after_three_days() -> None:
    client, _organization, _app = _sign_up()
    link = _path(_link(mail.outbox[0]))
    from allauth.account.models import EmailConfirmation

    EmailConfirmation.objects.update(sent=timezone.now() - timedelta(days=3, minutes=1))
    client.post(link)
    assert not email_verified(User.objects.get(email="new@example.com"))


def test_the_api_refuses_live_keys_and_clients_to_an_unverified_session_with_forbidden() -> None:
    client, _organization, app = _sign_up()

    live = client.post("/api/v1/api-keys", {"name": "k", "applicationId": app.pk, "scopePreset": "READ_ONLY",
                                            "environment": "live"}, content_type="application/json")
    assert live.status_code == 403
    assert live.json()["code"] == "FORBIDDEN" and "must be verified" in live.json()["error"]

    oauth = client.post("/api/v1/oauth-clients", {"name": "c", "applicationId": app.pk,
                                                  "grantTypes": ["client_credentials"],
                                                  "allowedScopes": ["apps:read"]},
                        content_type="application/json")
    assert oauth.status_code == 403 and "must be verified" in oauth.json()["error"]

    test = client.post("/api/v1/api-keys", {"name": "k", "applicationId": app.pk, "scopePreset": "ADMIN",
                                            "environment": "test"}, content_type="application/json")
    assert test.status_code == 201


def test_a_test_key_of_an_unverified_person_cannot_make_a_live_key() -> None:
    client, _organization, app = _sign_up()
    made = client.post("/api/v1/api-keys", {"name": "k", "applicationId": app.pk, "scopePreset": "ADMIN",
                                            "environment": "test"}, content_type="application/json")
    key = made.json()["key"]

    response = Client().post("/api/v1/api-keys", {"name": "k2", "applicationId": app.pk, "scopePreset": "READ_ONLY",
                                                  "environment": "live"},
                             content_type="application/json", HTTP_X_API_KEY=key)
    assert response.status_code == 403 and "must be verified" in response.json()["error"]


def test_oauth_clients_and_invitations_need_a_verified_address_in_the_dashboard() -> None:
    client, organization, app = _sign_up()
    client_form = {"name": "Worker", "client_type": "confidential", "grant_types": ["client_credentials"],
                   "redirect_uris": "", "allowed_scopes": ["apps:read"], "rate_limit_per_minute": ""}

    with committed():
        oauth = client.post(reverse("client-create", args=[organization.slug, app.pk]), client_form)
        invite = client.post(reverse("invitation-create", args=[organization.slug]),
                             {"email": "friend@example.com", "role": Role.DEVELOPER})

    for response in (oauth, invite):
        assert response.status_code == 403
        assert "Send the link again" in response.content.decode()
    assert not organization.invitations.exists()
    assert len(mail.outbox) == 1  # the verification mail only


def test_an_unverified_person_cannot_accept_an_invitation(org, owner, login, django_capture_on_commit_callbacks):
    unverified = UserFactory(verified=False, email="late@example.com")
    browser = login(owner)
    with django_capture_on_commit_callbacks(execute=True):
        browser.post(reverse("invitation-create", args=[org.slug]), {"email": unverified.email, "role": Role.VIEWER})
    link = re.search(r"/invitations/[^\s/]+/", mail.outbox[-1].body).group(0)

    response = login(unverified).post(link)

    assert response.status_code == 403 and "Send the link again" in response.content.decode()
    assert not org.memberships.filter(user=unverified).exists()


def test_the_button_mails_a_new_link(settings) -> None:
    settings.ACCOUNT_RATE_LIMITS = {"confirm_email": None}
    client, _organization, _app = _sign_up()
    mail.outbox.clear()

    with committed():
        response = client.post(reverse("verification-resend"), follow=True)

    assert response.redirect_chain[-1][0] == reverse("dashboard")
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["new@example.com"]
    client.post(_path(_link(mail.outbox[0])))
    assert email_verified(User.objects.get(email="new@example.com"))


def test_a_new_link_waits_a_few_minutes_after_the_last_one() -> None:
    client, _organization, _app = _sign_up()
    mail.outbox.clear()

    with committed():
        client.post(reverse("verification-resend"))

    assert mail.outbox == []


def test_the_demo_user_and_operator_made_people_are_verified() -> None:
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    call_command("create_organization", "Initech", "--owner", "op@example.com", stdout=open("/dev/null", "w"))  # noqa: SIM115

    assert email_verified(User.objects.get(email="demo@example.com"))
    assert email_verified(User.objects.get(email="op@example.com"))


def test_staff_and_commands_act_for_nobody_and_make_live_keys(org, app, make_key) -> None:
    key, _plaintext = make_key(app, "READ_ONLY", environment="live")
    assert key.environment == "live"



def test_the_mail_waits_for_the_worker_which_sends_it_from_its_row_id(monkeypatch) -> None:
    from portal import tasks
    from portal.models import PendingMail

    jobs = []
    monkeypatch.setattr(tasks.send_mail, "apply_async", lambda args, **options: jobs.append(args))
    _sign_up()  # the request commits; the worker is not running

    assert mail.outbox == []  # the request only queued the mail
    row = PendingMail.objects.get()
    assert (row.kind, row.recipients) == ("account.email_confirmation_signup", ["new@example.com"])
    assert jobs == [(row.pk,)]
    stored = row.body_encrypted

    tasks.send_mail.run(row.pk)  # what the worker does with the id

    (message,) = mail.outbox
    assert message.to == ["new@example.com"] and "Confirm" in message.subject
    token = _link(message).rstrip("/").rsplit("/", 1)[1]
    assert token not in stored and "confirm-email" not in stored  # stored encrypted
    assert not PendingMail.objects.exists()
