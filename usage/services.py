"""The writes of usage: the roll-up and the pruning, run by the scheduler (``usage.tasks``, every minute and
every night) or a command (``usage_rollup``, ``usage_prune``). Both are idempotent: run twice, or killed and run
again, they have the effect of one run."""

from __future__ import annotations

import logging
import os
import uuid
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from portal.housekeeping import delete_in_batches
from usage.models import REQUEST_LOG_RETENTION, RETENTION, RequestLog, RollupBatch, UsageCount
from usage.store import (
    PENDING,
    PROCESSING,
    REDIS_PREFIX,
    counts_from_redis_hash,
    minute_hash,
    redis_client,
    roll_up,
    write_counts,
)

logger = logging.getLogger(__name__)

PRUNE_BATCH = 10_000
ROLLUP_BATCH_RETENTION = timedelta(days=2)


def usage_rollup() -> int:
    """Move the counts the workers gathered in Redis into the database's minute, hour and day buckets. Returns
    the number of minutes moved; 0 without Redis, where the workers write the database themselves.

    Each minute's hash is first renamed to a batch of its own (in one MULTI with taking it off ``pending``), so
    that counts a worker adds meanwhile start a new hash for the next run. The batch's name is stored with its
    counts in one transaction, and the batch deleted from Redis after the commit: a job killed in between finds
    the batch again (``processing``), sees its name in the database, and only deletes it."""
    client = redis_client()
    if client is None:
        return 0
    moved = 0
    for name in client.smembers(PROCESSING):
        moved += _apply_batch(client, name.decode() if isinstance(name, bytes) else name)
    for member in client.smembers(PENDING):
        minute = int(member)
        name = f"{REDIS_PREFIX}batch:{minute}:{uuid.uuid4().hex}"
        pipe = client.pipeline(transaction=True)
        pipe.srem(PENDING, member)
        pipe.exists(minute_hash(minute))
        pipe.sadd(PROCESSING, name)
        # As a raw command: redis-py refuses ``rename`` in a cluster pipeline, although both keys share the
        # ``{usage}`` hash tag (one slot), so the MULTI runs on one shard.
        pipe.execute_command("RENAME", minute_hash(minute), name)
        results = pipe.execute(raise_on_error=False)
        if not results[1]:  # nothing to move (an earlier run took it): forget the batch name
            client.srem(PROCESSING, name)
            continue
        moved += _apply_batch(client, name)
    return moved


ROLLUP_LOCK = REDIS_PREFIX + "rollup-lock"
ROLLUP_EVERY_SECONDS = 60


def rollup_if_due() -> int:
    """``usage_rollup`` at most once a minute across every process sharing Redis: the first to set the lock runs
    it. Called by each process's flush thread; 0 when another process has it or without Redis."""
    client = redis_client()
    if client is None or not client.set(ROLLUP_LOCK, os.getpid(), nx=True, ex=ROLLUP_EVERY_SECONDS):
        return 0
    return usage_rollup()


def _apply_batch(client: Any, name: str) -> int:
    minute = int(name.split(":")[-2])
    fields = client.hgetall(name)
    with transaction.atomic():
        _batch, new = RollupBatch.objects.get_or_create(name=name)
        if new and fields:
            write_counts(roll_up(counts_from_redis_hash(minute, fields)))
    pipe = client.pipeline(transaction=True)
    pipe.delete(name)
    pipe.srem(PROCESSING, name)
    pipe.execute()
    return 1 if new and fields else 0


def usage_prune(now: datetime | None = None) -> dict[str, int]:
    """Delete buckets and log rows older than they are kept, in batches of ``PRUNE_BATCH`` rows (a long delete
    would hold locks and bloat one transaction). Returns the rows deleted per kind."""
    now = now or timezone.now()
    deleted = {}
    for granularity, kept in RETENTION.items():
        deleted[granularity.value] = delete_in_batches(
            UsageCount.objects.filter(granularity=granularity, start__lt=now - kept), PRUNE_BATCH)
    deleted["requests"] = delete_in_batches(RequestLog.objects.filter(created_at__lt=now - REQUEST_LOG_RETENTION),
                                            PRUNE_BATCH)
    RollupBatch.objects.filter(created_at__lt=now - ROLLUP_BATCH_RETENTION).delete()
    return deleted

