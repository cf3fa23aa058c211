"""E-mails through the worker's outbox: invitations, key expiry notices, security notices, preferences."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from accounts.roles import Role
from notifications import tasks
from notifications.models import NotificationPreference
from portal import tasks as portal_tasks
from portal.models import PendingMail

pytestmark = pytest.mark.django_db


def run_expiry_job() -> None:
    call_command("send_expiry_notices", stdout=open("/dev/null", "w"))  # noqa: SIM115


@pytest.fixture
def team(org, owner, admin_user, developer, viewer):
    return {"owner": owner, "admin": admin_user, "developer": developer, "viewer": viewer}


def test_an_invitation_is_mailed_by_the_job_and_its_token_is_never_a_job_argument(
        client_a, owner, monkeypatch, django_capture_on_commit_callbacks):
    sent, kept = [], []
    original = portal_tasks.send_mail.apply_async

    def spy(args, **kw):
        sent.append(args)
        kept.append(json.dumps(list(PendingMail.objects.values("subject", "recipients", "body_encrypted"))))
        return original(args, **kw)

    monkeypatch.setattr(portal_tasks.send_mail, "apply_async", spy)
    with django_capture_on_commit_callbacks(execute=True):
        response = client_a.post("/api/v1/invitations", {"email": "grace@example.com", "role": "developer"},
                                 format="json")

    assert response.status_code == 201
    (message,) = mail.outbox
    token = re.search(r"/invitations/([^/\s]+)/", message.body).group(1)
    assert message.alternatives[0][1] == "text/html" and token in message.alternatives[0][0]
    assert "Acme" in message.subject
    assert len(sent) == 1 and all(isinstance(arg, int) for arg in sent[0])
    assert token not in kept[0]  # the row the worker was pointed at holds the mail encrypted
    assert not PendingMail.objects.exists()  # sent, then gone


def test_a_failed_mail_is_kept_and_sent_by_the_sweep(client_a, owner, monkeypatch, django_capture_on_commit_callbacks):
    from django.core.mail.backends.locmem import EmailBackend

    def refuse(self, messages):
        raise ConnectionRefusedError("smtp down")

    with monkeypatch.context() as patched:
        patched.setattr(EmailBackend, "send_messages", refuse)
        with django_capture_on_commit_callbacks(execute=True):
            response = client_a.post("/api/v1/invitations", {"email": "grace@example.com", "role": "viewer"},
                                     format="json")
    assert response.status_code == 201 and mail.outbox == []
    row = PendingMail.objects.get()
    assert row.attempts == 1 and row.last_failure == "ConnectionRefusedError" and row.kind == "invitation"
    assert row.next_attempt_at > timezone.now()  # backoff

    portal_tasks.send_due_mail.delay()
    assert mail.outbox == []  # not due yet
    PendingMail.objects.update(next_attempt_at=timezone.now())
    portal_tasks.send_due_mail.delay()

    assert len(mail.outbox) == 1 and not PendingMail.objects.exists()


def test_a_key_expiring_in_seven_days_gets_one_notice_however_often_the_job_runs(
        team, app, make_key, django_capture_on_commit_callbacks):
    key, plaintext = make_key(app, "READ_ONLY", expires_in_days=7, name="Billing")
    with django_capture_on_commit_callbacks(execute=True):
        run_expiry_job()
        run_expiry_job()
        tasks.send_expiry_notices.delay()

    (message,) = mail.outbox
    assert sorted(message.to) == sorted([team["owner"].email, team["admin"].email])
    assert "Billing" in message.subject and "7 days" in message.subject and "Acme" in message.subject
    assert f"/orgs/acme/apps/{app.pk}/" in message.body
    assert plaintext not in message.body and plaintext not in message.alternatives[0][0]
    assert key.public_id in message.body  # named by its public part


def test_the_maker_is_told_too_while_still_a_member(team, org, app, django_capture_on_commit_callbacks):
    from accounts.selectors import member_caller
    from apikeys.services import api_key_create

    caller = member_caller(org, team["developer"], Role.DEVELOPER)
    api_key_create(caller=caller, application=app, name="dev key", scope_preset="READ_ONLY", expires_in_days=1)
    with django_capture_on_commit_callbacks(execute=True):
        run_expiry_job()

    (message,) = mail.outbox
    assert team["developer"].email in message.to and team["viewer"].email not in message.to
    assert "1 day" in message.subject


def test_a_key_made_inside_the_one_day_window_gets_only_that_notice_then_the_expired_one(
        team, app, make_key, django_capture_on_commit_callbacks):
    key, _ = make_key(app, "READ_ONLY", expires_in_days=1)
    with django_capture_on_commit_callbacks(execute=True):
        run_expiry_job()
    assert [m.subject for m in mail.outbox] == [f"API key {key.name} of Acme expires in 1 day"]

    type(key).objects.filter(pk=key.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    with django_capture_on_commit_callbacks(execute=True):
        run_expiry_job()
        run_expiry_job()

    assert [m.subject for m in mail.outbox][1:] == [f"API key {key.name} of Acme has expired"]


def test_a_key_made_with_three_days_gets_the_seven_day_notice_then_the_one_day_notice(
        team, app, make_key, django_capture_on_commit_callbacks):
    key, _ = make_key(app, "READ_ONLY", expires_in_days=3)
    with django_capture_on_commit_callbacks(execute=True):
        run_expiry_job()
        type(key).objects.filter(pk=key.pk).update(expires_at=timezone.now() + timedelta(hours=20))
        run_expiry_job()
    assert ["7 days" in mail.outbox[0].subject, "1 day" in mail.outbox[1].subject] == [True, True]
    assert len(mail.outbox) == 2


def test_revoked_and_rotated_keys_get_no_notice(team, app, make_key, django_capture_on_commit_callbacks):
    from apikeys.services import api_key_revoke, api_key_rotate
    from portal.callers import Caller

    caller = Caller.system(app.organization)
    revoked, _ = make_key(app, "READ_ONLY", expires_in_days=2)
    api_key_revoke(caller=caller, key=revoked)
    rotated, _ = make_key(app, "READ_ONLY", name="rotated", expires_in_days=30)
    api_key_rotate(caller=caller, key=rotated, grace_period_hours=2)  # ends in 2 hours on purpose
    with django_capture_on_commit_callbacks(execute=True):
        run_expiry_job()
    assert mail.outbox == []


def test_a_person_who_turned_expiry_notices_off_is_left_out(team, app, make_key, login,
                                                            django_capture_on_commit_callbacks):
    page = login(team["admin"]).post("/account/notifications/", {"webhook_disabled": "on"})
    assert page.status_code == 302
    assert NotificationPreference.objects.get(user=team["admin"]).key_expiry is False
    make_key(app, "READ_ONLY", expires_in_days=7)
    with django_capture_on_commit_callbacks(execute=True):
        run_expiry_job()
    (message,) = mail.outbox
    assert message.to == [team["owner"].email]


def test_the_preferences_page_shows_the_settings_and_what_is_always_sent(owner, login):
    page = login(owner).get("/account/notifications/")
    assert page.status_code == 200
    assert b"password" in page.content.lower() and b'name="key_expiry"' in page.content


def test_the_expiry_job_publishes_the_expiring_webhook_event(team, app, make_key, settings,
                                                             django_capture_on_commit_callbacks):
    from portal.callers import Caller
    from webhooks.models import WebhookEvent
    from webhooks.services import webhook_endpoint_create

    settings.PORTAL = {**settings.PORTAL, "WEBHOOKS_ALLOW_PRIVATE": True}
    webhook_endpoint_create(caller=Caller.system(app.organization), url="http://127.0.0.1:9/never",
                            event_types=["api_key.expiring", "api_key.expired"])
    key, _ = make_key(app, "READ_ONLY", expires_in_days=7)
    run_expiry_job()
    (event,) = WebhookEvent.objects.filter(type="api_key.expiring")
    assert event.data["id"] == key.public_id


def test_changing_the_password_mails_a_security_notice(owner, login, django_capture_on_commit_callbacks):
    owner.set_password("old-password-123")
    owner.save()
    client = login(owner)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/accounts/password/", {"old_password": "old-password-123",
                                                       "new_password1": "a-new-Passw0rd-xyz",
                                                       "new_password2": "a-new-Passw0rd-xyz"})
    assert response.status_code == 302
    (message,) = mail.outbox
    assert message.to == [owner.email] and "password" in message.body.lower()
    assert "a-new-Passw0rd-xyz" not in message.body


def test_security_notices_cannot_be_turned_off(owner, django_capture_on_commit_callbacks):
    from notifications.services import preferences_update, security_notify
    from portal.callers import Caller

    preferences_update(caller=Caller.for_person(owner), key_expiry=False, webhook_disabled=False)
    with django_capture_on_commit_callbacks(execute=True):
        security_notify(user_id=owner.pk, kind="mfa_removed")
    assert len(mail.outbox) == 1 and "second factor" in mail.outbox[0].body
