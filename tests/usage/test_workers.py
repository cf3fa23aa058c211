"""Real gunicorn workers on this test's PostgreSQL (and Redis, when set): a worker that is killed loses at most
the counts it gathered since its last flush (about a second), and one stopped normally loses none."""

from __future__ import annotations

import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.db import connection

from tests.portal.test_ratelimit_workers import serve  # noqa: F401 (the fixture: gunicorn on this test's database)
from usage.models import RequestLog, UsageCount
from usage.services import usage_rollup

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL (the second run of .ci/run)"),
    pytest.mark.django_db(transaction=True),
]

CONNECTIONS = 4
FLUSH_SECONDS = 1.0


def workers_of(master: int) -> list[int]:
    """The pids whose parent is ``master`` (gunicorn's workers)."""
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == master:
                children.append(int(entry.name))
    return children


def master_pid(base: str) -> int:
    port = base.rsplit(":", 1)[1]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"gunicorn" in b" ".join(command) and f"127.0.0.1:{port}".encode() in command:
                if workers_of(int(entry.name)):
                    return int(entry.name)
    raise AssertionError("no gunicorn master found")


class Load:
    """``CONNECTIONS`` clients calling ``url`` until stopped; counts the answers they received."""

    def __init__(self, url: str, key: str) -> None:
        self.url, self.key, self.received, self.stop = url, key, 0, threading.Event()
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.run) for _ in range(CONNECTIONS)]

    def run(self) -> None:
        with requests.Session() as session:
            while not self.stop.is_set():
                try:
                    session.get(self.url, headers={"X-API-Key": self.key}, timeout=30)
                except requests.RequestException:
                    continue  # the killed worker's connection: no answer, nothing received
                with self.lock:
                    self.received += 1

    def __enter__(self) -> Load:
        self.started = time.monotonic()
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(15)
        self.seconds = time.monotonic() - self.started


def warm(url: str) -> None:
    """Every worker's first request loads the rest of the application (seconds on a busy machine): done before
    the measured run, on an unauthenticated path so that nothing is counted."""
    with ThreadPoolExecutor(max_workers=CONNECTIONS) as pool:
        list(pool.map(lambda _: requests.get(url, timeout=60), range(CONNECTIONS * 4)))


def counted(key) -> tuple[int, int]:
    if settings.REDIS_URL:
        usage_rollup()
    buckets = UsageCount.objects.filter(api_key=key, granularity="minute")
    return sum(b.requests for b in buckets), RequestLog.objects.filter(api_key=key).count()


@pytest.fixture
def portal(serve, app, make_key):  # noqa: F811
    """``(key, plaintext, base URL, gunicorn master pid)``: three warmed workers, limits off."""
    key, plaintext = make_key(app, "READ_ONLY")
    base = serve(PORTAL_RATELIMITS="off")
    warm(f"{base}/api/v1/scopes")
    return key, plaintext, base, master_pid(base)


def test_a_killed_worker_loses_at_most_its_unflushed_second(portal):
    key, plaintext, base, master = portal
    with Load(f"{base}/api/v1/hello", plaintext) as load:
        time.sleep(3)
        victim = workers_of(master)[0]
        os.kill(victim, signal.SIGKILL)  # mid-run: no exit handler, no last flush
        time.sleep(3)
    time.sleep(FLUSH_SECONDS * 2.5)  # the surviving workers' threads flush what they hold
    requests_counted, logged = counted(key)
    rate = load.received / load.seconds

    lost = load.received - requests_counted
    # At most what the victim gathered since its last flush (it flushes every second; one more second covers a
    # flush under way). A request it counted but could not answer before dying counts without being received.
    assert -CONNECTIONS <= lost <= rate * FLUSH_SECONDS * 2, (load.received, requests_counted, rate)
    assert -CONNECTIONS <= load.received - logged <= rate * FLUSH_SECONDS * 2
    assert requests_counted > load.received / 2  # the other worker's and the victim's flushed counts are there


def test_workers_stopped_normally_lose_nothing(portal):
    key, plaintext, base, master = portal
    with Load(f"{base}/api/v1/hello", plaintext) as load:
        time.sleep(2)
    os.kill(master, signal.SIGTERM)  # graceful: each worker finishes, then flushes at exit
    deadline = time.time() + 20
    while workers_of(master) and time.time() < deadline:
        time.sleep(0.2)
    assert counted(key) == (load.received, load.received)
