"""Webhook jobs. Arguments are ids; every job may run twice with the effect of once (``services._claim``)."""

from __future__ import annotations

from celery import shared_task

from portal.tasks import RETRY  # a database that does not answer is retried with backoff
from webhooks import services

# An endpoint's failure is not an error of the job: the delivery's own retry schedule handles it.


@shared_task(acks_late=True, reject_on_worker_lost=True, **RETRY)
def deliver(delivery_id: int) -> None:
    services.delivery_attempt(delivery_id)


@shared_task(acks_late=True, **RETRY)
def deliver_due() -> None:
    services.deliver_due()


@shared_task(acks_late=True, **RETRY)
def prune_attempts() -> None:
    services.prune_attempts()
