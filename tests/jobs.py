"""A real Celery worker (with beat) in a process of its own, on this test's database, for the tests that must
see jobs run the way production runs them: ``celery -A portal worker --beat``.

pytest-django's SQLite test database lives in memory, where no other process can see it, so these tests run
on PostgreSQL (the second run of .ci/run), as the gunicorn tests of tests/portal/test_ratelimit_workers.py do.
The broker is kombu's filesystem transport in this checkout's ``var/test-celery`` (the embedded broker of a
laptop): the test process publishes there and the worker reads there.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[1]

needs_a_shared_database = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="a worker process needs a database it can share (PostgreSQL, the second run of .ci/run)",
)


class Worker:
    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.output: list[str] = []
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> Worker:
        self.output = []
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "portal", "worker", "--beat", "--loglevel", "INFO",
             "--concurrency", "1", "--without-gossip", "--without-mingle", "--hostname", f"test-{os.getpid()}@%h"],
            cwd=ROOT, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            start_new_session=True,  # its own process group, so that kill() takes the pool's children too
        )
        threading.Thread(target=self._read, args=(self.process,), daemon=True).start()
        deadline = time.monotonic() + timeout
        while not any(" ready." in line for line in self.output):
            if self.process.poll() is not None or time.monotonic() > deadline:
                pytest.fail("the celery worker did not start:\n" + "".join(self.output[-40:]))
            time.sleep(0.1)
        return self

    def _read(self, process: subprocess.Popen) -> None:
        for line in process.stdout:
            self.output.append(line)

    def kill(self) -> None:
        """As a crash would: SIGKILL to the worker and its pool, no chance to hand anything back."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)



@pytest.fixture
def celery_worker_process(tmp_path):
    """``celery_worker_process(**environment) -> Worker`` started; jobs of this test go to it, not inline."""
    from portal.celery import app

    folder = Path(settings.CELERY_FOLDER)
    shutil.rmtree(folder / "messages", ignore_errors=True)
    for stale in folder.glob("beat-schedule*"):  # a killed beat may leave its file half-written
        stale.unlink()
    (folder / "messages").mkdir(parents=True, exist_ok=True)
    workers: list[Worker] = []
    app.conf.task_always_eager = False

    def _start(**extra: str) -> Worker:
        db = connection.settings_dict
        env = {
            **os.environ,
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
            "CELERY_BROKER_URL": "filesystem://",
            "PORTAL_CELERY_FOLDER": str(folder),
            "PORTAL_WEBHOOKS_ALLOW_PRIVATE": "on",
            "PORTAL_WEBHOOK_RETRY_SCHEDULE": "1,1,1",
            "PORTAL_JOBS_SWEEP_SECONDS": "1",
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "EMAIL_FILE_PATH": str(tmp_path / "mails"),
            "DJANGO_LOG_LEVEL": "WARNING",
            **extra,
        }
        worker = Worker(env).start()
        workers.append(worker)
        return worker

    yield _start
    for worker in workers:
        worker.kill()  # what it was doing no longer matters, and a warm shutdown takes seconds
    app.conf.task_always_eager = True
    # The broker's connections stay open: ``app.pool`` is kombu's pool for the whole process (the producers that
    # inline jobs use take their connections from it too), and ``force_close_all()`` closes it for good, so every
    # later test that sent a job failed with "Acquire on closed pool". A filesystem connection holds no socket.
