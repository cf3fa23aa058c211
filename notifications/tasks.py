"""Notification jobs. Arguments are ids, never content: the mail itself waits encrypted in its row."""

from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError

from notifications import expiry, services

RETRY = {"autoretry_for": (OperationalError, InterfaceError), "retry_backoff": True, "retry_backoff_max": 600,
         "max_retries": 8}


@shared_task(acks_late=True, reject_on_worker_lost=True, **RETRY)
def send_email(email_id: int) -> None:
    services.email_send(email_id)


@shared_task(acks_late=True, **RETRY)
def send_pending() -> None:
    services.emails_send_pending()


@shared_task(acks_late=True, **RETRY)
def send_expiry_notices() -> None:
    expiry.expiry_notices_run()
