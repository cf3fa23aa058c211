"""The portal's one way to send mail: recorded beside the change it tells about, sent by the worker.

A service records the mail in its own transaction (``send_mail_after_commit``: the text and HTML parts rendered
there, stored encrypted, because a body may hold a single-use link such as an invitation's). Once that commits,
the row's id (never its content) goes to the worker (``portal.tasks.send_mail``), which sends it and deletes the
row. A change that rolls back sends nothing, and no request ever waits for a mail server or fails because of
one. If the backend fails, the failure is logged (its type only) and the mail is kept; the worker's sweep tries
again with backoff, and ``manage.py send_pending_mail`` sends every kept mail at once.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from portal import outboxes
from portal.encryption import decrypt, encrypt
from portal.models import PendingMail

logger = logging.getLogger(__name__)

CLAIM_SECONDS = 600  # longer than any backend takes to fail (SMTP timeouts are seconds)
MAX_BACKOFF_SECONDS = 3600


def send_mail_after_commit(*, subject: str, body: str, to: list[str], html: str = "", kind: str = "") -> PendingMail:
    """Record a mail in the current transaction; the worker sends it once the transaction commits."""
    pending = PendingMail.objects.create(kind=kind[:64], subject=subject[:255], body_encrypted=encrypt(body),
                                         html_encrypted=encrypt(html) if html else "", recipients=list(to))
    transaction.on_commit(partial(_enqueue, pending.pk))
    return pending


def _enqueue(pending_id: int) -> None:
    outboxes.send("portal.tasks.send_mail", pending_id)  # by name: portal.tasks imports this module


def _claimable(now: datetime) -> Q:
    return Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - timedelta(seconds=CLAIM_SECONDS))


def send_pending_mail(pending_id: int) -> bool:
    """Send one pending mail and delete it; on a failure, log it (the error's type only: the text of an SMTP error
    may quote the message) and keep the mail for a later try. False when it was not sent, or another process has
    it. Idempotent: a mail already sent is gone."""
    now = timezone.now()
    # One short UPDATE claims the row: no transaction stays open while the backend talks to a mail server.
    if not PendingMail.objects.filter(_claimable(now), pk=pending_id).update(claimed_at=now):
        return False
    mail = PendingMail.objects.get(pk=pending_id)
    message = EmailMultiAlternatives(subject=mail.subject, body=decrypt(mail.body_encrypted),
                                     from_email=settings.DEFAULT_FROM_EMAIL, to=mail.recipients)
    if mail.html_encrypted:
        message.attach_alternative(decrypt(mail.html_encrypted), "text/html")
    try:
        message.send()
    except Exception as exc:  # noqa: BLE001 (any backend's failure: smtplib, OSError, a custom backend's own)
        backoff = min(MAX_BACKOFF_SECONDS, 30 * 2 ** (mail.attempts + 1))
        PendingMail.objects.filter(pk=mail.pk).update(
            claimed_at=None, attempts=mail.attempts + 1, last_failure=type(exc).__name__[:100],
            next_attempt_at=timezone.now() + timedelta(seconds=backoff))
        logger.error("Mail %s (%s) to %d recipient(s) was not sent (%s); it is kept and tried again",
                     mail.pk, mail.kind or mail.subject, len(mail.recipients), type(exc).__name__)
        return False
    mail.delete()
    return True


def due_mail_ids(limit: int = 500) -> list[int]:
    """Kept mails whose next try is due (the worker's sweep)."""
    now = timezone.now()
    return list(PendingMail.objects.filter(_claimable(now), next_attempt_at__lte=now)
                .order_by("next_attempt_at").values_list("pk", flat=True)[:limit])


def send_all_pending_mail() -> tuple[int, int]:
    """Try every pending mail now, oldest first, whatever its backoff. Returns ``(sent, still_pending)``."""
    ids = list(PendingMail.objects.values_list("pk", flat=True))
    sent = sum(send_pending_mail(pk) for pk in ids)
    return sent, PendingMail.objects.count()
