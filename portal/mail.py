"""Sending mail without letting a mail failure change the answer of a request whose change committed.

A service records the mail beside its change (``send_mail_after_commit``), in the same transaction; once that
commits, the mail is sent. If the backend fails (SMTP down, a full disk), the failure is logged and the mail stays
in ``PendingMail`` for ``manage.py send_pending_mail`` (run it from cron until the background worker sends mail).
A change that rolls back sends nothing.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from functools import partial

from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from portal.encryption import decrypt, encrypt
from portal.models import PendingMail

logger = logging.getLogger(__name__)

CLAIM_SECONDS = 600  # longer than any backend takes to fail (SMTP timeouts are seconds)


def send_mail_after_commit(*, subject: str, body: str, to: list[str]) -> PendingMail:
    """Record a mail in the current transaction and send it once the transaction commits."""
    pending = PendingMail.objects.create(subject=subject[:255], body_encrypted=encrypt(body), recipients=list(to))
    transaction.on_commit(partial(_send_quietly, pending.pk))
    return pending


def _send_quietly(pending_id: int) -> None:
    # Runs after the commit, inside the request: nothing may escape from here into the response.
    try:
        send_pending_mail(pending_id)
    except Exception as exc:  # noqa: BLE001 (even the database failing here must not turn a 201 into a 500)
        logger.error("Mail %s could not be sent or recorded (%s); it is kept for send_pending_mail",
                     pending_id, type(exc).__name__)


def send_pending_mail(pending_id: int) -> bool:
    """Send one pending mail and delete it; on a failure, log it (the error's type only: the text of an SMTP error
    may quote the message) and keep the mail. False when it was not sent, or another process has it."""
    now = timezone.now()
    claimable = Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - timedelta(seconds=CLAIM_SECONDS))
    # One short UPDATE claims the row: no transaction stays open while the backend talks to a mail server.
    if not PendingMail.objects.filter(claimable, pk=pending_id).update(claimed_at=now):
        return False
    mail = PendingMail.objects.get(pk=pending_id)
    try:
        send_mail(subject=mail.subject, message=decrypt(mail.body_encrypted), from_email=None,
                  recipient_list=mail.recipients)
    except Exception as exc:  # noqa: BLE001 (any backend's failure: smtplib, OSError, a custom backend's own)
        PendingMail.objects.filter(pk=mail.pk).update(
            claimed_at=None, attempts=mail.attempts + 1, last_failure=type(exc).__name__[:100])
        logger.error("Mail %s (%s) to %d recipient(s) was not sent (%s); it is kept for send_pending_mail",
                     mail.pk, mail.subject, len(mail.recipients), type(exc).__name__)
        return False
    mail.delete()
    return True


def send_all_pending_mail() -> tuple[int, int]:
    """Try every pending mail, oldest first. Returns ``(sent, still_pending)``."""
    ids = list(PendingMail.objects.values_list("pk", flat=True))
    sent = sum(send_pending_mail(pk) for pk in ids)
    return sent, PendingMail.objects.count()
