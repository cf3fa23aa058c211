"""Notification jobs. The mails themselves are sent by ``portal.tasks.send_mail``."""

from __future__ import annotations

from celery import shared_task

from notifications import expiry
from portal.tasks import RETRY


@shared_task(acks_late=True, **RETRY)
def send_expiry_notices() -> None:
    expiry.expiry_notices_run()
