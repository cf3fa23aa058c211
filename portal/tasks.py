"""The core's jobs: sending mail (``portal.mail``) and ``purge_expired`` every night."""

from __future__ import annotations

from celery import shared_task
from django.core.management import call_command
from django.db import InterfaceError, OperationalError

from portal import mail, outboxes

# Every job: a database that does not answer is retried with backoff, and logged by Celery each time.
RETRY = {"autoretry_for": (OperationalError, InterfaceError), "retry_backoff": True, "retry_backoff_max": 600,
         "max_retries": 8}


@shared_task(acks_late=True, reject_on_worker_lost=True, **RETRY)
def send_mail(pending_id: int) -> None:
    mail.send_pending_mail(pending_id)


@shared_task(acks_late=True, **RETRY)
def send_due_mail() -> None:
    """The sweep: mails a failed backend, a lost message or a dead worker left behind."""
    for pending_id in mail.due_mail_ids():
        outboxes.send(send_mail, pending_id)


@shared_task(acks_late=True)
def purge_expired() -> None:
    # Called by name, so the core imports no feature app; the command is idempotent (it deletes what is expired).
    call_command("purge_expired")
