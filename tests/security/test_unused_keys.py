"""The unused-key job with time moved (``--as-of``), never waited for: the notice 7 days before (once), the
revocation audited with reason ``unused``, and the ``api_key.revoked`` webhook."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from accounts.selectors import member_caller
from apikeys.models import ApiKey
from apikeys.services import api_key_create
from audit.models import AuditEvent
from policies.services import credential_policy_update
from portal.callers import Caller

pytestmark = pytest.mark.django_db


def _policy(org, days):
    credential_policy_update(caller=Caller.system(org), max_key_lifetime_days=None, allowed_scopes=None,
                             live_keys_need_ip_ranges=False, revoke_unused_keys_after_days=days)


def _run(capture, moment) -> str:
    out = io.StringIO()
    with capture(execute=True):
        call_command("revoke_unused_keys", "--as-of", moment.isoformat(), stdout=out)
    return out.getvalue()


@pytest.fixture
def webhook(org, settings):
    from webhooks.services import webhook_endpoint_create

    settings.PORTAL = {**settings.PORTAL, "WEBHOOKS_ALLOW_PRIVATE": True}
    webhook_endpoint_create(caller=Caller.system(org), url="http://127.0.0.1:9/never",
                            event_types=["api_key.revoked"])


def test_a_never_used_key_is_noticed_once_then_revoked(org, owner, developer, app, login, api_client, webhook,
                                                       django_capture_on_commit_callbacks) -> None:
    from webhooks.models import WebhookEvent

    _policy(org, 30)
    key, plaintext = api_key_create(caller=member_caller(org, developer, "developer"), application=app,
                                    name="Forgotten", scope_preset="READ_ONLY", environment="test")
    start = key.created_at

    assert "noticed: 0" in _run(django_capture_on_commit_callbacks, start + timedelta(days=22))
    assert mail.outbox == []

    assert "noticed: 1" in _run(django_capture_on_commit_callbacks, start + timedelta(days=23, hours=1))
    (message,) = mail.outbox
    assert set(message.to) == {developer.email, owner.email}
    assert "Forgotten" in message.subject and key.public_id in message.body and plaintext not in message.body
    assert "noticed: 0" in _run(django_capture_on_commit_callbacks, start + timedelta(days=25))
    assert len(mail.outbox) == 1  # once

    assert api_client(plaintext).get("/api/v1/hello?name=Test").status_code == 200  # still works: not yet due
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=None)  # the call above is not the point here

    assert "revoked: 1" in _run(django_capture_on_commit_callbacks, start + timedelta(days=30, minutes=1))
    key.refresh_from_db()
    assert key.revoked_at is not None
    event = AuditEvent.objects.get(action="api_key.revoked", target_id=str(key.pk))
    assert event.metadata["reason"] == "unused"
    (hook,) = WebhookEvent.objects.filter(type="api_key.revoked")
    assert hook.data["id"] == key.public_id and hook.data["status"] == "revoked"
    assert api_client(plaintext).get("/api/v1/hello?name=Test").status_code == 401
    assert "revoked: 0" in _run(django_capture_on_commit_callbacks, start + timedelta(days=31))


def test_a_key_used_recently_counts_from_its_last_use(org, owner, app, make_key,
                                                      django_capture_on_commit_callbacks) -> None:
    _policy(org, 30)
    key, _ = make_key(app, "READ_ONLY", environment="test")
    used = key.created_at + timedelta(days=20)
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=used)
    assert "revoked: 0" in _run(django_capture_on_commit_callbacks, key.created_at + timedelta(days=35))
    assert "noticed: 0" in _run(django_capture_on_commit_callbacks, used + timedelta(days=22))
    assert "revoked: 1" in _run(django_capture_on_commit_callbacks, used + timedelta(days=30, seconds=1))


def test_without_the_policy_field_nothing_is_revoked(org, owner, app, make_key,
                                                     django_capture_on_commit_callbacks) -> None:
    _policy(org, None)
    key, _ = make_key(app, "READ_ONLY", environment="test")
    assert "revoked: 0" in _run(django_capture_on_commit_callbacks, timezone.now() + timedelta(days=400))
    key.refresh_from_db()
    assert key.revoked_at is None


def test_the_scheduled_task_runs_the_same_job(org, owner, app, make_key, monkeypatch,
                                              django_capture_on_commit_callbacks) -> None:
    from security import tasks

    _policy(org, 30)
    key, _ = make_key(app, "READ_ONLY", environment="test")
    later = timezone.now() + timedelta(days=31)
    monkeypatch.setattr(timezone, "now", lambda: later)
    with django_capture_on_commit_callbacks(execute=True):
        tasks.revoke_unused_keys.delay()
    key.refresh_from_db()
    assert key.revoked_at is not None


def test_a_bad_as_of_is_a_clear_error() -> None:
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="ISO 8601"):
        call_command("revoke_unused_keys", "--as-of", "next tuesday")
