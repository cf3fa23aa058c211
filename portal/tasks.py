"""The core's own periodic job: ``purge_expired`` every night (its command lives with the tokens it purges)."""

from __future__ import annotations

from celery import shared_task
from django.core.management import call_command


@shared_task(acks_late=True)
def purge_expired() -> None:
    # Called by name, so the core imports no feature app; the command is idempotent (it deletes what is expired).
    call_command("purge_expired")
