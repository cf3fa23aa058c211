"""The core's jobs: sending mail (``portal.mail``) and ``purge_expired`` every night."""

from __future__ import annotations

from celery import shared_task
from django.core.management import call_command
from django.db import InterfaceError, OperationalError

from portal import mail, outboxes

# Celery ships no type hints (and the venv has no stubs for it), so each ``@shared_task`` below is an untyped
# decorator to mypy: the ignores on them are that stub gap, nothing else.

# Every job: a database that does not answer is retried with backoff, and logged by Celery each time.
RETRY = {"autoretry_for": (OperationalError, InterfaceError), "retry_backoff": True, "retry_backoff_max": 600,
         "max_retries": 8}


@shared_task(acks_late=True, reject_on_worker_lost=True, **RETRY)  # type: ignore[untyped-decorator]
def send_mail(pending_id: int) -> None:
    mail.send_pending_mail(pending_id)


@shared_task(acks_late=True, **RETRY)  # type: ignore[untyped-decorator]
def send_due_mail() -> None:
    """The sweep: mails a failed backend, a lost message or a dead worker left behind."""
    for pending_id in mail.due_mail_ids():
        outboxes.send(send_mail, pending_id)


@shared_task(acks_late=True)  # type: ignore[untyped-decorator]
def purge_expired() -> None:
    # Called by name, so the core imports no feature app; the command is idempotent (it deletes what is expired).
    call_command("purge_expired")
