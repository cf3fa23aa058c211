"""The credential cache on SQLite without Redis (the quick start, ``make dev``): the same guarantee as
``portal.credential_cache``'s, told by SQLite itself instead of Redis.

Every process that can open an SQLite database runs on the host that holds its file, and SQLite tells each
connection, without reading a page, whether anything was committed since it last asked:

- ``PRAGMA data_version`` changes when *another* connection (another thread, process or tool) has committed a
  change to the database file;
- the connection's ``total_changes`` grows with every row it writes itself.

Each thread keeps the rows it verified beside its own connection, with the pair those two read when they were
stored. Before every check the pair is read again (a few µs, no query through Django, nothing to parse): if it
moved, every kept row is forgotten. So a revocation, rotation, deletion, suspension or change of role (any write
at all, even one made with ``QuerySet.update()``, raw SQL or the ``sqlite3`` shell) is seen by the first request of
every process that comes after its commit. The price: any write anywhere forgets everything (the usage flush
writes about once a second per process), which costs one query at the next request, as without a cache.

A row is stored only outside a transaction: a row read inside one may be rolled back, and a rollback moves neither
number. Tests running inside a transaction therefore read the database every time, as before.

Figures: ``bench/api_bench.py --peers`` (SQLite) in the README's Benchmarks.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections

from portal.conf import portal_settings

MAX_ROWS = 50_000  # rows kept per thread; past that all are read again


@dataclass
class _Kept:
    """What one thread keeps for its current connection."""

    raw: Any  # the sqlite3 connection the rows were read on
    cursor: Any  # a cursor of it, kept for the stamp's PRAGMA
    stamp: tuple[int, int] = (-1, -1)  # (data_version, total_changes) when the rows below were valid
    rows: dict[str, tuple[Any, float]] = field(default_factory=dict)  # name -> (row, time.monotonic() stored)
    markers: dict[str, float] = field(default_factory=dict)  # name -> time.monotonic() until which it is set


def _stamp(kept: _Kept) -> tuple[int, int]:
    kept.cursor.execute("PRAGMA data_version")
    return kept.cursor.fetchone()[0], kept.raw.total_changes


class SQLiteCredentialCache:
    """Per thread, per connection: the rows verified since nothing was last committed to the database."""

    def __init__(self) -> None:
        self._local = threading.local()

    def _raw(self) -> Any:
        """This thread's open sqlite3 connection (Django's connection handler is per thread: looked up once)."""
        wrapper = getattr(self._local, "wrapper", None)
        if wrapper is None:
            wrapper = self._local.wrapper = connections[DEFAULT_DB_ALIAS]
        if wrapper.connection is None:
            wrapper.ensure_connection()
        return wrapper.connection

    def _current(self) -> _Kept:
        """This thread's rows, forgotten if the database changed since they were read."""
        raw = self._raw()
        kept: _Kept | None = getattr(self._local, "kept", None)
        if kept is None or kept.raw is not raw:  # a new connection starts with nothing
            kept = self._local.kept = _Kept(raw, raw.cursor())
        stamp = _stamp(kept)
        if stamp != kept.stamp:
            kept.rows.clear()
            kept.stamp = stamp
        return kept

    def get(self, kind: str, value: str) -> Any | None:
        kept = self._current()
        found = kept.rows.get(f"{kind}:{value}")
        if found is None:
            return None
        row, stored_at = found
        if time.monotonic() - stored_at >= portal_settings.CREDENTIAL_CACHE_SECONDS:
            kept.rows.pop(f"{kind}:{value}", None)
            return None
        return row

    def put(self, kind: str, value: str, row: Any, *, read_at: float, depends_on: Iterable[str]) -> None:
        """Keep ``row`` if nothing was committed since ``get`` read the stamp (before the row's query) and no
        transaction is open. ``depends_on`` is not needed: any change forgets every row."""
        del read_at, depends_on
        kept = getattr(self._local, "kept", None)
        if kept is None or self._local.wrapper.in_atomic_block or kept.raw.in_transaction:
            return
        if kept.raw is not self._raw() or _stamp(kept) != kept.stamp:
            return
        if len(kept.rows) >= MAX_ROWS:
            kept.rows.clear()
        kept.rows[f"{kind}:{value}"] = (row, time.monotonic())

    def marker_is_set(self, name: str) -> bool:
        """A marker of this thread (``apikeys.verification.touch_last_used``): per process here, not shared."""
        kept: _Kept | None = getattr(self._local, "kept", None)
        until = kept.markers.get(name) if kept is not None else None
        return until is not None and time.monotonic() < until

    def set_marker(self, name: str, seconds: int) -> bool:
        kept: _Kept | None = getattr(self._local, "kept", None)
        if kept is None:  # a marker set before any check of this thread: its connection's state, made once
            kept = self._current()
        if self.marker_is_set(name):
            return False
        if len(kept.markers) >= MAX_ROWS:
            kept.markers.clear()
        kept.markers[name] = time.monotonic() + seconds
        return True

    def bump(self, deps: Sequence[str]) -> None:
        """Nothing to announce: the write itself moves the stamp every connection reads."""
        del deps
