"""The database goes away in the middle of a run (section 20 of the contract): a gunicorn server reaches
PostgreSQL through a small TCP proxy that the test stops and starts again. Meanwhile a credential verified before
keeps working, anything that needs the database is a 503 with Retry-After (JSON on the API, a page elsewhere),
never a 500; the usage and request log gathered meanwhile are written once it is back, and nothing has to be
restarted."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.db import connection
from django.test import Client

from tests.portal.test_credential_cache_servers import server_environment

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.skipif(not settings.REDIS_URL or connection.vendor != "postgresql",
                       reason="needs REDIS_URL and PostgreSQL (the second run of .ci/run)"),
    pytest.mark.django_db(transaction=True),
]


class TcpProxy:
    """Forwards a loopback port to PostgreSQL until ``stop()``, which closes every connection and refuses new
    ones; ``start()`` listens on the same port again."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = 0
        self.listener: socket.socket | None = None
        self.sockets: list[socket.socket] = []
        self.lock = threading.Lock()

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self) -> None:
        listener, self.listener = self.listener, None
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        with self.lock:
            sockets, self.sockets = self.sockets, []
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                downstream, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                downstream.close()
                continue
            with self.lock:
                self.sockets += [downstream, upstream]
            for source, sink in ((downstream, upstream), (upstream, downstream)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


@pytest.fixture
def proxy():
    db = connection.settings_dict
    tcp = TcpProxy((db["HOST"] or "127.0.0.1", int(db["PORT"] or 5432)))
    tcp.start()
    yield tcp
    tcp.stop()


@pytest.fixture
def server(proxy):
    """One gunicorn server (2 workers, debug off) whose database is behind ``proxy``."""
    db = connection.settings_dict
    env = {**server_environment(),
           "DATABASE_URL": f"postgres://{db['USER']}@127.0.0.1:{proxy.port}/{db['NAME']}",
           "PORTAL_CREDENTIAL_CACHE_SECONDS": "120"}
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "portal.wsgi", "-w", "2", "-b", f"127.0.0.1:{port}", "--log-level",
         "error"], cwd=ROOT, env=env, stderr=subprocess.DEVNULL,
    )
    base, deadline = f"http://127.0.0.1:{port}", time.time() + 90
    while True:
        try:
            requests.get(f"{base}/api/v1/scopes", timeout=30)
            break
        except requests.RequestException:
            if time.time() > deadline:
                process.terminate()
                raise
            time.sleep(0.2)
    yield base
    process.terminate()
    process.wait(timeout=30)


def wait_for(condition, seconds: float = 45.0) -> None:
    deadline = time.time() + seconds
    while not condition():
        assert time.time() < deadline, "did not happen in time"
        time.sleep(0.5)


def test_the_portal_rides_out_a_database_outage(server, proxy, app, make_key, owner):
    from apikeys.models import ApiKey
    from usage.models import RequestLog, UsageCount
    from usage.services import usage_rollup

    known, known_plaintext = make_key(app, "READ_ONLY")
    _unknown, unknown_plaintext = make_key(app, "READ_ONLY")
    browser = Client()
    browser.force_login(owner)
    cookies = {settings.SESSION_COOKIE_NAME: browser.cookies[settings.SESSION_COOKIE_NAME].value}
    hello = f"{server}/api/v1/hello"
    with requests.Session() as session:
        # Concurrent requests, so that both workers (each answers one at a time) verify the key.
        with ThreadPoolExecutor(max_workers=6) as pool:
            before = list(pool.map(lambda _: requests.get(hello, headers={"X-API-Key": known_plaintext},
                                                          timeout=30), range(48)))
        assert {r.status_code for r in before} == {200}
        assert session.get(f"{server}/dashboard/", cookies=cookies, timeout=30).status_code == 200

        proxy.stop()
        during = [session.get(hello, headers={"X-API-Key": known_plaintext}, timeout=30) for _ in range(12)]
        assert {r.status_code for r in during} == {200}

        refused = session.get(hello, headers={"X-API-Key": unknown_plaintext}, timeout=30)
        assert refused.status_code == 503
        assert refused.json()["code"] == "SERVICE_UNAVAILABLE" and int(refused.headers["Retry-After"]) > 0
        page = session.get(f"{server}/dashboard/", cookies=cookies, timeout=30)
        assert page.status_code == 503 and int(page.headers["Retry-After"]) > 0
        assert page.headers["Content-Type"].startswith("text/html") and "Error 503" in page.text
        created = session.post(f"{server}/api/v1/applications", json={"name": "x"},
                               headers={"X-API-Key": known_plaintext}, timeout=30)
        assert created.status_code in {403, 503}  # a read-only key; never a 500

        proxy.start()
        # Nothing restarted: each worker reconnects by itself (a pooled connection the outage broke may cost its
        # worker one more 503 with Retry-After, never a 500).
        for _ in range(4):
            wait_for(lambda: session.get(hello, headers={"X-API-Key": unknown_plaintext}, timeout=30).status_code
                     == 200)
            wait_for(lambda: session.get(f"{server}/dashboard/", cookies=cookies, timeout=30).status_code == 200)

    # What was gathered while the database was away is written now, none of it lost.
    served = len(before) + len(during) + 1  # the POST above was the known key's too
    wait_for(lambda: RequestLog.objects.filter(api_key=known).count() == served)
    usage_rollup()
    minutes = UsageCount.objects.filter(api_key=known, granularity="minute")
    assert sum(row.success + row.client_errors + row.rate_limited + row.server_errors for row in minutes) == served
    assert ApiKey.objects.get(pk=known.pk).last_used_at is not None
