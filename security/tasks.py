"""Least-privilege jobs."""

from __future__ import annotations

from celery import shared_task

from portal.tasks import RETRY
from security import unused


@shared_task(acks_late=True, **RETRY)
def revoke_unused_keys() -> None:
    unused.unused_keys_run()
