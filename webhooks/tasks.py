"""Webhook jobs. Arguments are ids; every job may run twice with the effect of once (``services._claim``)."""

from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError

from webhooks import services

# A database that does not answer is retried with backoff; an endpoint's failure is not an error of the job
# (the delivery's own retry schedule handles it).
RETRY = {"autoretry_for": (OperationalError, InterfaceError), "retry_backoff": True, "retry_backoff_max": 600,
         "max_retries": 8}


@shared_task(acks_late=True, reject_on_worker_lost=True, **RETRY)
def deliver(delivery_id: int) -> None:
    services.delivery_attempt(delivery_id)


@shared_task(acks_late=True, **RETRY)
def deliver_due() -> None:
    services.deliver_due()


@shared_task(acks_late=True, **RETRY)
def prune_attempts() -> None:
    services.prune_attempts()
