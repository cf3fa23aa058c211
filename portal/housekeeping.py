"""Removing rows that can never be used again, a batch at a time. Each app names its own rows (its ``purge``
service); the ``purge_expired`` command runs them one after another."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from django.db import models

logger = logging.getLogger(__name__)

Progress = Callable[[str, int], None]


def delete_in_batches(queryset: models.QuerySet[Any], batch_size: int) -> int:
    """Delete the rows of ``queryset`` a batch at a time (each its own short transaction); return how many."""
    removed = 0
    while True:
        ids = list(queryset.order_by().values_list("pk", flat=True)[:batch_size])
        if not ids:
            return removed
        queryset.model._default_manager.filter(pk__in=ids).delete()
        removed += len(ids)


def purge(plan: Iterable[tuple[str, models.QuerySet[Any]]], *, batch_size: int,
          progress: Progress | None = None) -> dict[str, int]:
    """Delete each ``(kind, queryset)`` of ``plan`` in batches, in order; return the number removed of each kind."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    removed: dict[str, int] = {}
    for kind, queryset in plan:
        removed[kind] = delete_in_batches(queryset, batch_size)
        logger.info("purge_expired: %s removed %d", kind, removed[kind])
        if progress is not None:
            progress(kind, removed[kind])
    return removed
