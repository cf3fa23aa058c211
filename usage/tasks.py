"""Usage jobs: roll the counts the processes gathered in Redis into the database, and prune what is kept no longer.
Both are idempotent (``usage.services``): a roll-up applies each batch at most once, and pruning deletes what is old."""

from __future__ import annotations

from celery import shared_task

from portal.tasks import RETRY
from usage import services


@shared_task(acks_late=True, **RETRY)
def rollup() -> None:
    services.usage_rollup()


@shared_task(acks_late=True, **RETRY)
def prune() -> None:
    services.usage_prune()
