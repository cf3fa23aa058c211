"""Counting API requests and logging them without a round trip of their own.

Each finished API response made with an API key or an OAuth token (``portal.api.observe``) adds one to its
credential's minute and outcome in this process's memory and appends a log row, under a lock: a few
microseconds, no I/O. A daemon thread in each process writes what has gathered about once a second
(``PORTAL["USAGE_FLUSH_SECONDS"]``) in one batch (``usage.store``), and once more when the process exits
normally. A process that is killed loses what it gathered since its last flush: a second or so of counts,
never a rate-limit count, which is counted in the cache before the request runs (``portal.ratelimit``).

A batch that cannot be written (the database is down) is kept for the next flush, up to ``MAX_PENDING_LOGS``
log rows, beyond which the oldest are dropped (and the loss logged) rather than letting memory grow.

With Redis, the same thread of whichever process takes a Redis lock first also rolls the counts into the
database once a minute (``usage.services.rollup_if_due``), so the dashboard is current without a scheduler; the
scheduled job does the same, and the two never count a batch twice.

The thread is started by the first request of each process, so a forked gunicorn worker starts its own.
Tests run without it (``PORTAL["USAGE_BACKGROUND_FLUSH"]`` off) and call ``recorder.flush()``.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from collections.abc import Callable

from django.db import close_old_connections
from django.http import HttpResponse

from portal.api.observe import ObservedHttpRequest
from portal.conf import portal_settings
from portal.net import client_ip
from portal.scrub import scrub_keys
from usage.services import rollup_if_due
from usage.store import Bucket, outcome_of, store_counts, write_logs

logger = logging.getLogger(__name__)

# (organization id, api key pk or None, oauth client pk or None, user id (0: none), scope)
ScopeKey = tuple[int, int | None, int | None, int, str]

MAX_PENDING_LOGS = 100_000


class UsageRecorder:
    def __init__(self) -> None:
        self._lock = threading.Lock()  # guards the buffers; held for a dict update and an append
        self._flush_lock = threading.Lock()  # one flush at a time (the thread, and exit)
        self._counts: dict[Bucket, list[int]] = {}
        self._logs: list[tuple] = []
        self._thread_pid: int | None = None
        # Scope usage (contract section 19): (organization, key pk, client pk, user id, scope) -> latest call,
        # written by ``scope_writer`` (``security.scope_usage``, set by its app) on each flush.
        self._scopes: dict[ScopeKey, float] = {}
        self.scope_writer: Callable[[dict[ScopeKey, float]], None] | None = None
        self.record_scopes = True  # the benchmark turns it off to measure its cost

    def observe(self, request: ObservedHttpRequest, response: HttpResponse, started_at: float,
                duration: float) -> None:
        """The observer of every API response (registered by ``usage.apps``)."""
        if not portal_settings.USAGE_ENABLED:
            return
        caller = getattr(request, "auth", None)
        self._add(caller, started_at=started_at, status=response.status_code,
                  log=(request.request_id, request.method, request.path, round(duration * 1000, 2),
                       client_ip(request), request.META.get("HTTP_USER_AGENT", ""), None),
                  scopes=getattr(request, "portal_scopes_used", None))

    def record(self, caller, *, request_id: str, started_at: float, duration: float, method: str, path: str,
               status: int, ip: str | None, user_agent: str, resource_server: str) -> None:
        """A decision made for a resource server (``/gateway/auth``), counted and logged like an API request with
        the original method and path (section 18)."""
        if not portal_settings.USAGE_ENABLED:
            return
        self._add(caller, started_at=started_at, status=status,
                  log=(request_id, method, path, round(duration * 1000, 2), ip, user_agent, resource_server),
                  scopes=None)

    def _add(self, caller, *, started_at: float, status: int, log: tuple, scopes) -> None:
        """Count one call of a key or a token (a session, or no valid credential, is not a credential's usage), keep
        its request-log row (path and user agent scrubbed of pasted keys) and the scopes it used."""
        auth_type = getattr(caller, "auth_type", None)
        if auth_type == "api_key":
            key_pk, client_pk, application_id = caller.credential.pk, None, caller.credential.application_id
        elif auth_type == "oauth2":
            key_pk, client_pk, application_id = None, caller.client.pk, caller.client.application_id
        else:
            return
        organization_id = caller.organization_id
        request_id, method, path, duration_ms, ip, user_agent, resource_server = log
        bucket = (organization_id, application_id, key_pk, client_pk, int(started_at) // 60 * 60)
        entry = (request_id, started_at, organization_id, key_pk, client_pk, method, scrub_keys(path)[:2000],
                 status, duration_ms, ip, scrub_keys(user_agent)[:512], resource_server)
        index = outcome_of(status)
        if not self.record_scopes:
            scopes = None
        with self._lock:
            counts = self._counts.get(bucket)
            if counts is None:
                counts = self._counts[bucket] = [0, 0, 0, 0]
            counts[index] += 1
            self._logs.append(entry)
            if scopes:
                user_id = caller.user.pk if client_pk is not None and caller.user is not None else 0
                for scope in scopes:
                    self._scopes[(organization_id, key_pk, client_pk, user_id, scope)] = started_at
        if self._thread_pid != os.getpid() and portal_settings.USAGE_BACKGROUND_FLUSH:
            self._start_thread()

    def flush(self) -> None:
        """Write what has gathered, in one batch of counts and one of log rows."""
        with self._flush_lock:
            with self._lock:
                counts, self._counts = self._counts, {}
                logs, self._logs = self._logs, []
                scopes, self._scopes = self._scopes, {}
            if scopes and self.scope_writer is not None:
                try:
                    self.scope_writer(scopes)
                except Exception:
                    logger.exception("Scope usage could not be written; kept for the next flush")
                    with self._lock:
                        for name, moment in scopes.items():
                            self._scopes[name] = max(moment, self._scopes.get(name, 0))
            if counts:
                try:
                    store_counts(counts)
                except Exception:
                    logger.exception("Usage counts could not be written; kept for the next flush")
                    self._keep(counts, [])
            if logs:
                try:
                    write_logs(logs)
                except Exception:
                    logger.exception("Request log rows could not be written; kept for the next flush")
                    self._keep({}, logs)

    def pending_scopes(self) -> dict[tuple, float]:
        """A copy of the scope uses gathered in this process and not yet written (a page or the API merges them,
        so a call is visible there at once in this process, and within a flush everywhere)."""
        with self._lock:
            return dict(self._scopes)

    def discard(self) -> None:
        """Forget what has gathered (tests: each starts with an empty buffer)."""
        with self._lock:
            self._counts, self._logs, self._scopes = {}, [], {}

    def _keep(self, counts: dict[Bucket, list[int]], logs: list[tuple]) -> None:
        with self._lock:
            for bucket, values in counts.items():
                total = self._counts.setdefault(bucket, [0, 0, 0, 0])
                for index, value in enumerate(values):
                    total[index] += value
            self._logs[:0] = logs
            dropped = len(self._logs) - MAX_PENDING_LOGS
            if dropped > 0:
                del self._logs[:dropped]
        if dropped > 0:
            logger.error("Dropped %d request log rows that could not be written", dropped)

    def _start_thread(self) -> None:
        with self._lock:
            pid = os.getpid()
            if self._thread_pid == pid:
                return
            self._thread_pid = pid
        threading.Thread(target=self._run, name="usage-flush", daemon=True).start()

    def _run(self) -> None:
        while True:
            time.sleep(portal_settings.USAGE_FLUSH_SECONDS)
            self.flush()
            try:
                rollup_if_due()
            except Exception:
                logger.exception("Usage roll-up failed; the next one takes what is left")
            # As at the end of a request: give a pooled connection back, drop a broken one.
            close_old_connections()


recorder = UsageRecorder()


@atexit.register
def _flush_at_exit() -> None:
    # A worker stopped normally (gunicorn's graceful shutdown, max-requests) writes what it still holds.
    if recorder._thread_pid == os.getpid():
        recorder.flush()
