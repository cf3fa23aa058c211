"""What every outbox of the portal shares (webhook deliveries, e-mails): rows that say what is still to do,
taken by one worker at a time, and a sweep that finds what a lost message or a dead worker left behind.

A row has ``status`` (``"pending"`` while there is work), ``next_attempt_at`` and ``locked_until``.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from datetime import datetime, timedelta
from typing import Any

from django.db import models
from django.db.models import Q
from django.utils import timezone

logger = logging.getLogger(__name__)

PENDING = "pending"


def _due(model: type[models.Model], now: datetime) -> models.QuerySet[Any]:
    return model._default_manager.filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now), status=PENDING,
                                next_attempt_at__lte=now)


def claim(model: type[models.Model], pk: int, lease_seconds: float) -> bool:
    """Take row ``pk`` for one attempt, or learn that it is not due, done, or held by another worker. One
    conditional update, so two workers (or a job that runs twice) never make the same attempt."""
    now = timezone.now()
    return bool(_due(model, now).filter(pk=pk).update(locked_until=now + timedelta(seconds=lease_seconds)))


def due_ids(model: type[models.Model], limit: int) -> list[int]:
    """Ids of the rows that are due and held by no live worker, oldest first (for the sweep)."""
    return list(_due(model, timezone.now()).order_by("next_attempt_at").values_list("pk", flat=True)[:limit])


# Handing jobs to the broker ------------------------------------------------------------------------------
#
# A request that records an event must not wait for the broker: ``send`` puts the job on a queue in the process
# and one thread per process publishes it. ``kick`` asks for a sweep, and kicks are rationed: the first after a
# quiet spell is published at once, and those that come within ``KICK_INTERVAL_SECONDS`` of it wait for the
# interval's end and go as one message. A steady stream of events so costs a publish or two a second per
# process, not one per request (the benchmark of ``POST /api/v1/api-keys`` with a webhook endpoint showed a
# publish costing more than the row it announces: about 1 ms of the process's CPU on the embedded broker), for
# at most that much delay. The rows are already committed, so a job lost with a dying process, or refused by a
# broker that is down, is found by the periodic sweep all the same.

_outgoing: queue.SimpleQueue[tuple[Any, tuple[Any, ...], float | None]] = queue.SimpleQueue()
_KICK = -1.0  # the countdown that marks a kick
KICK_INTERVAL_SECONDS = 0.5
_kicked_at: dict[str, float] = {}  # task name -> when the publisher thread last sent a kick of it (monotonic)
# Tasks with a kick waiting on the queue: a further kick adds nothing (the queue does not grow with the requests
# of an interval, and the thread does not wake for each).
_kicks_waiting: set[str] = set()
_publisher_pid: int | None = None
_publisher_lock = threading.Lock()


def _publish_forever() -> None:
    while True:
        batch = [_outgoing.get()]
        task, _args, countdown = batch[0]
        if countdown == _KICK:
            wait = _kicked_at.get(task.name, float("-inf")) + KICK_INTERVAL_SECONDS - time.monotonic()
            if wait > 0:
                time.sleep(wait)
        while not _outgoing.empty():
            batch.append(_outgoing.get_nowait())
        kicked: set[str] = set()
        for task, args, countdown in batch:
            if countdown == _KICK:
                if task.name in kicked:
                    continue
                kicked.add(task.name)
                _kicks_waiting.discard(task.name)  # a kick from now on asks for the next publish
                _kicked_at[task.name] = time.monotonic()
                countdown = None
            try:
                task.apply_async(args, countdown=countdown)
            except Exception:  # the broker is down: the periodic sweep sends the rows once it is back
                logger.warning("Could not enqueue %s%r; the sweep will pick it up", task.name, args, exc_info=True)


def registered_task(task: Any) -> Any:
    """``task`` itself, or the task registered under that name (``"webhooks.tasks.deliver"``). A module enqueues
    the jobs of its app's ``tasks`` module by name, so that the two do not import each other: the tasks module
    imports the module whose work it runs, and each app's ``ready()`` imports its tasks module so that the name is
    registered in every process."""
    if isinstance(task, str):
        from portal.celery import app

        return app.tasks[task]
    return task


def send(task: Any, *args: Any, countdown: float | None = None) -> None:
    """Enqueue ``task(*args)`` (a task or its name; ids only, never a secret) without waiting for the broker. Call
    it on commit. Where jobs run inline (tests), it runs the job now."""
    _put(registered_task(task), args, countdown)


def kick(task: Any) -> None:
    """Ask for ``task()`` (a task or its name: a sweep, which finds its own work) within
    ``KICK_INTERVAL_SECONDS``; many kicks before it is sent are one."""
    task = registered_task(task)
    if task.name in _kicks_waiting and _publisher_pid == os.getpid():
        return
    _put(task, (), _KICK)


def _put(task: Any, args: tuple[Any, ...], countdown: float | None) -> None:
    global _publisher_pid
    if task.app.conf.task_always_eager:
        task.apply_async(args, countdown=None if countdown == _KICK else countdown)
        return
    if _publisher_pid != os.getpid():  # first use in this process (a forked worker starts its own thread)
        with _publisher_lock:
            if _publisher_pid != os.getpid():
                _kicks_waiting.clear()  # a forked process's queue starts empty, whatever its parent's held
                threading.Thread(target=_publish_forever, name="portal-jobs-publisher", daemon=True).start()
                _publisher_pid = os.getpid()
    if countdown == _KICK:
        _kicks_waiting.add(task.name)
    _outgoing.put((task, args, countdown))
