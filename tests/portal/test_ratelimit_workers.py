"""With Redis, limits and revocations hold exactly across several gunicorn workers (real processes, real load on
loopback)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.db import connection

from tests.cluster import request_path_has_key

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 40
REQUESTS = 100

pytestmark = [
    pytest.mark.skipif(not settings.REDIS_URL or connection.vendor != "postgresql",
                       reason="needs REDIS_URL and PostgreSQL (the second run of .ci/run)"),
    pytest.mark.django_db(transaction=True),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def serve():
    """``serve(**environment) -> base URL`` of three gunicorn workers on this test's database and Redis."""
    processes = []

    def _serve(**extra: str) -> str:
        db = connection.settings_dict
        port = free_port()
        env = {
            **os.environ,
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
            "REDIS_URL": settings.REDIS_URL,
            "DJANGO_LOG_LEVEL": "ERROR",
            **extra,
        }
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "portal.wsgi", "-w", "3", "-b", f"127.0.0.1:{port}",
             "--log-level", "error"],
            cwd=ROOT, env=env,
        )
        processes.append(process)
        # Ready once a request is answered, not once the port is bound: on a loaded machine the master binds
        # the port seconds before its workers have booted.
        base, deadline = f"http://127.0.0.1:{port}", time.time() + 90
        while True:
            try:
                if requests.get(f"{base}/api/v1/scopes", timeout=30).status_code == 200:
                    return base
            except requests.RequestException:
                pass
            if time.time() > deadline or process.poll() is not None:
                pytest.fail("gunicorn did not start")
            time.sleep(0.2)

    yield _serve
    for process in processes:
        process.terminate()
        process.wait(10)


@pytest.fixture
def gunicorn(serve):
    return serve()


def burst(url: str, headers: dict[str, str], count: int) -> list[int]:
    with ThreadPoolExecutor(max_workers=20) as pool, requests.Session() as session:
        return list(pool.map(lambda _: session.get(url, headers=headers, timeout=30).status_code, range(count)))


def wait_for_a_fresh_window(response) -> int:
    """Requests already counted in the window the burst will fall in (0 after waiting for the next one)."""
    reset = datetime.fromisoformat(response.headers["X-RateLimit-Reset"].replace("Z", "+00:00"))
    seconds_left = (reset - datetime.now(UTC)).total_seconds()
    if seconds_left < 15:  # too close to the end of the window: start the burst in the next one
        time.sleep(max(0.0, seconds_left) + 1.5)
        return 0
    return 1


def test_exactly_the_limit_gets_through_across_workers(gunicorn, app, make_key):
    _, key = make_key(app, "READ_ONLY", rate_limit_per_minute=LIMIT)
    url, headers = f"{gunicorn}/api/v1/hello", {"X-API-Key": key}
    probe = requests.get(url, headers=headers, timeout=30)
    assert probe.status_code == 200
    already_counted = wait_for_a_fresh_window(probe)

    codes = burst(url, headers, REQUESTS)

    assert codes.count(200) == LIMIT - already_counted
    assert codes.count(429) == REQUESTS - (LIMIT - already_counted)


def test_the_default_limit_counted_with_the_cached_key_is_exact_across_workers(serve, app, make_key):
    """A cached key costs no round trip of its own; its request is counted in one (portal.api_counters): exact."""
    base = serve(PORTAL_API_READ_RATE=f"{LIMIT}/m")
    _, key = make_key(app, "READ_ONLY")
    url, headers = f"{base}/api/v1/hello", {"X-API-Key": key}
    probe = requests.get(url, headers=headers, timeout=30)
    assert probe.status_code == 200 and probe.headers["X-RateLimit-Limit"] == str(LIMIT)
    already_counted = wait_for_a_fresh_window(probe)

    codes = burst(url, headers, REQUESTS)

    assert codes.count(200) == LIMIT - already_counted
    assert codes.count(429) == REQUESTS - (LIMIT - already_counted)


def test_a_revoked_key_is_refused_by_every_worker_at_the_next_request(gunicorn, app, make_key):

    from apikeys.services import api_key_revoke
    from portal.callers import Caller

    key, plaintext = make_key(app, "READ_ONLY")
    url, headers = f"{gunicorn}/api/v1/hello", {"X-API-Key": plaintext}
    assert set(burst(url, headers, 30)) == {200}  # every worker has used it; each keeps it in its memory
    assert not request_path_has_key(f"credgen:key:{key.public_id}")  # never changed yet

    api_key_revoke(caller=Caller.system(app.organization), key=key)  # committed: this test is transactional

    assert request_path_has_key(f"credgen:key:{key.public_id}")  # the change every worker heard of
    assert set(burst(url, headers, 30)) == {401}
