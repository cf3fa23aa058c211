"""E-mails: queued in the caller's transaction, sent by the worker, never from a request (section 14).

``email_queue`` renders the text and HTML parts where the mail is asked for (the request knows the
invitation link; the worker must not be handed it), stores them encrypted in an ``OutboundEmail`` row and
enqueues the row's id on commit. ``email_send`` (the worker) sends one, idempotently; the sweep
``emails_send_pending`` sends what a lost message, a broker outage or a failed SMTP call left pending, with
backoff. No mail ever holds a secret but an invitation's own link, which is the invitation.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from accounts.models import Membership, Organization, User
from accounts.roles import Role
from notifications.models import NotificationPreference, OutboundEmail
from portal import jobs
from portal.conf import portal_settings
from portal.encryption import decrypt, encrypt

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 10
LEASE_SECONDS = 120

#: The account-security mails (always sent, to the person): kind -> what happened, in a sentence.
SECURITY_KINDS: dict[str, str] = {
    "password_changed": "The password of your account was changed.",
    "email_changed": "The e-mail address of your account was changed.",
    "new_sign_in": "Someone signed in to your account from a browser not seen before.",
    "mfa_added": "A second factor was added to your account.",
    "mfa_removed": "A second factor was removed from your account.",
}

#: Preferences a person may turn off (``NotificationPreference`` fields).
OPTIONAL_KINDS = ("key_expiry", "webhook_disabled")


def absolute(path: str) -> str:
    return f"{portal_settings.BASE_URL}{path}"


def _enqueue(email_id: int) -> None:
    from notifications.tasks import send_email

    jobs.send(send_email, email_id)


def email_queue(*, kind: str, to: Iterable[str], subject: str, template: str, context: dict[str, Any],
                dedupe_key: str | None = None) -> OutboundEmail | None:
    """Render ``notifications/email/<template>.txt`` and ``.html`` and queue the mail. Call inside the
    transaction of what it reports; with ``dedupe_key`` a second call queues nothing and returns None."""
    recipients = list(dict.fromkeys(address for address in to if address))
    if not recipients:
        return None
    context = {"base_url": portal_settings.BASE_URL, "subject": subject, **context}
    content = {"text": render_to_string(f"notifications/email/{template}.txt", context),
               "html": render_to_string(f"notifications/email/{template}.html", context)}
    try:
        with transaction.atomic():
            email = OutboundEmail.objects.create(kind=kind, to=recipients, subject=subject[:255],
                                                 content_encrypted=encrypt(json.dumps(content)),
                                                 dedupe_key=dedupe_key)
    except IntegrityError:
        return None  # already queued once
    transaction.on_commit(lambda: _enqueue(email.pk))
    return email


def email_send(email_id: int) -> bool:
    """Send one queued mail (the worker's job). Idempotent: a mail already sent, not due or held by another
    worker is left alone. A failure is logged and tried again later with backoff, never lost."""
    if not jobs.claim(OutboundEmail, email_id, LEASE_SECONDS):
        return False
    email = OutboundEmail.objects.get(pk=email_id)
    content = json.loads(decrypt(email.content_encrypted))
    message = EmailMultiAlternatives(subject=email.subject, body=content["text"],
                                     from_email=settings.DEFAULT_FROM_EMAIL, to=email.to)
    message.attach_alternative(content["html"], "text/html")
    try:
        message.send()
    except Exception as error:
        email.attempt_count += 1
        email.last_error = type(error).__name__[:300]
        email.locked_until = None
        if email.attempt_count >= MAX_ATTEMPTS:
            email.status = OutboundEmail.Status.FAILED
            logger.error("E-mail %s (%s) failed %s times; giving up", email.pk, email.kind, email.attempt_count)
        else:
            email.next_attempt_at = timezone.now() + timedelta(seconds=min(3600, 30 * 2 ** email.attempt_count))
            logger.warning("E-mail %s (%s) failed (%s); trying again at %s", email.pk, email.kind,
                           email.last_error, email.next_attempt_at.isoformat())
        email.save(update_fields=["attempt_count", "last_error", "locked_until", "status", "next_attempt_at"])
        return False
    OutboundEmail.objects.filter(pk=email.pk).update(status=OutboundEmail.Status.SENT, sent_at=timezone.now(),
                                                     locked_until=None, attempt_count=email.attempt_count + 1)
    return True


def emails_send_pending(limit: int = 500) -> int:
    """The sweep: enqueue every pending mail that is due and held by no live worker."""
    ids = jobs.due_ids(OutboundEmail, limit)
    for email_id in ids:
        _enqueue(email_id)
    return len(ids)


# Preferences ---------------------------------------------------------------------------------------------


def preferences_for(user: User) -> NotificationPreference:
    return NotificationPreference.objects.filter(user=user).first() or NotificationPreference(user=user)


@transaction.atomic
def preferences_update(*, user: User, key_expiry: bool, webhook_disabled: bool) -> NotificationPreference:
    preference, _ = NotificationPreference.objects.update_or_create(
        user=user, defaults={"key_expiry": bool(key_expiry), "webhook_disabled": bool(webhook_disabled)})
    return preference


def people_wanting(users: Iterable[User], preference: str) -> list[User]:
    users = [user for user in users if user is not None and user.is_active]
    off = set(NotificationPreference.objects.filter(user__in=users, **{preference: False})
              .values_list("user_id", flat=True))
    return [user for user in users if user.pk not in off]


def organization_managers(organization_id: int, roles: tuple[str, ...] = (Role.OWNER, Role.ADMIN)) -> list[User]:
    return [m.user for m in Membership.objects.filter(organization_id=organization_id, role__in=roles)
            .select_related("user").order_by("created_at")]


# The mails -----------------------------------------------------------------------------------------------


def invitation_mail_queue(*, organization: Organization, email: str, role: str, inviter: str, url: str,
                          ttl_days: int) -> OutboundEmail | None:
    """The invitation; its link (the token) is in the encrypted row, never in a job's arguments."""
    return email_queue(kind="invitation", to=[email], subject=f"You are invited to {organization.name}",
                       template="invitation",
                       context={"organization": organization, "role": role, "inviter": inviter, "url": url,
                                "ttl_days": ttl_days})


def security_notify(*, user_id: int, kind: str) -> OutboundEmail | None:
    """An account-security mail to the person (never turned off). ``kind`` is one of ``SECURITY_KINDS``."""
    if kind not in SECURITY_KINDS:
        raise ValueError(f"Unknown security notice {kind!r}")
    user = User.objects.get(pk=user_id)
    return email_queue(kind=f"security.{kind}", to=[user.email], subject="Security notice for your portal account",
                       template="security",
                       context={"user": user, "what": SECURITY_KINDS[kind], "when": timezone.now(),
                                "url": absolute("/accounts/password/")})


def notify_webhook_endpoint_disabled(*, organization: Organization, endpoint_url: str, reason: str,
                                     page: str) -> OutboundEmail | None:
    """To the organization's owners who have not turned it off."""
    owners = people_wanting(organization_managers(organization.pk, roles=(Role.OWNER,)), "webhook_disabled")
    return email_queue(kind="webhook_disabled", to=[user.email for user in owners],
                       subject=f"A webhook endpoint of {organization.name} was disabled", template="webhook_disabled",
                       context={"organization": organization, "endpoint_url": endpoint_url, "reason": reason,
                                "url": absolute(page)})
