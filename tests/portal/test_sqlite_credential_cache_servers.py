"""Two separate servers (gunicorn, 2 workers each, debug off) on one SQLite file and no Redis, as the quick start
runs: each worker keeps the keys it verified (``portal.sqlite_credential_cache``), and a change committed through
one server, or written into the file by any other tool, is refused by every worker at the very next request."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
from django.db import connection

from tests.portal.test_credential_cache_servers import (
    WARM_REQUESTS,
    production_environment,
    start_server,
    statuses,
)

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(connection.vendor != "sqlite", reason="the quick start's database (the first run)")


def manage(env: dict[str, str], *argv: str) -> str:
    return subprocess.run([sys.executable, "manage.py", *argv], cwd=ROOT, env=env, capture_output=True, text=True,
                          check=True).stdout


def printed(output: str, label: str) -> str:
    return next(line.split(": ", 1)[1].strip() for line in output.splitlines() if line.startswith(f"{label}: "))


@pytest.fixture(scope="module")
def quick_start(tmp_path_factory):
    """A migrated SQLite file with an organization, an admin key and two read keys, served by two servers."""
    folder = tmp_path_factory.mktemp("sqlite-servers")
    env = production_environment({key: value for key, value in os.environ.items()
                                  if key not in {"REDIS_URL", "REDIS_CLUSTER_URL"}})
    env.update({"DATABASE_URL": f"sqlite:///{folder / 'portal.sqlite3'}",
                "PORTAL_CELERY_FOLDER": str(folder / "celery")})
    manage(env, "migrate", "--noinput", "-v0")
    manage(env, "create_organization", "Quick", "--owner", "quick@example.com", "--slug", "quick")
    keys = {name: manage(env, "issue_api_key", "--org", "quick", "--name", name, "--preset", preset)
            for name, preset in (("admin", "ADMIN"), ("api", "READ_ONLY"), ("tool", "READ_ONLY"))}
    started = [start_server(env) for _ in range(2)]
    yield {
        "database": folder / "portal.sqlite3",
        "servers": [base for _process, base in started],
        "keys": {name: (printed(out, "key"), printed(out, "id")) for name, out in keys.items()},
    }
    for process, _base in started:
        process.terminate()
        process.wait(timeout=30)


def warm(servers: list[str], plaintext: str) -> None:
    for base in servers:
        assert statuses(base, {"X-API-Key": plaintext}, count=WARM_REQUESTS) == {200}


def test_a_key_revoked_through_one_server_is_refused_by_every_worker_of_the_other(quick_start):
    first, second = quick_start["servers"]
    admin, _ = quick_start["keys"]["admin"]
    plaintext, public_id = quick_start["keys"]["api"]
    warm([first, second], plaintext)
    response = requests.delete(f"{first}/api/v1/api-keys/{public_id}", headers={"X-API-Key": admin}, timeout=30)
    assert response.status_code == 204
    assert statuses(second, {"X-API-Key": plaintext}) == {401}
    assert statuses(first, {"X-API-Key": plaintext}) == {401}


def test_a_write_by_another_tool_reaches_every_worker_at_the_next_request(quick_start):
    servers = quick_start["servers"]
    plaintext, public_id = quick_start["keys"]["tool"]
    warm(servers, plaintext)
    with sqlite3.connect(quick_start["database"]) as database:  # the sqlite3 shell's way: no signal, no Django
        database.execute("UPDATE accounts_organization SET suspended_at = ? WHERE slug = 'quick'",
                         (datetime.now(UTC).isoformat(" "),))
    for base in servers:
        assert statuses(base, {"X-API-Key": plaintext}) == {401}
    with sqlite3.connect(quick_start["database"]) as database:
        database.execute("UPDATE accounts_organization SET suspended_at = NULL WHERE slug = 'quick'")
    for base in servers:
        assert statuses(base, {"X-API-Key": plaintext}) == {200}
