"""On PostgreSQL (the second run of .ci/run): the unused-key job run by several workers at once has the effect of
one run, and concurrent flushes of scope usage keep the latest time."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.db import connection, connections

from apikeys.models import ApiKey
from audit.models import AuditEvent
from policies.services import credential_policy_update
from portal.callers import Caller
from security.models import ScopeUsage, UnusedKeyNotice
from security.scope_usage import store_scope_usage
from security.unused import unused_keys_run

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL (the second run of .ci/run)"),
    pytest.mark.django_db(transaction=True),
]

RUNS = 4


def _in_threads(function, *args):
    barrier = threading.Barrier(RUNS)

    def run():
        barrier.wait()
        try:
            return function(*args)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(RUNS) as pool:
        return [f.result() for f in [pool.submit(run) for _ in range(RUNS)]]


def test_the_unused_key_job_run_by_several_workers_at_once_notices_and_revokes_once(org, owner, app,
                                                                                    make_key) -> None:
    credential_policy_update(caller=Caller.system(org), max_key_lifetime_days=None, allowed_scopes=None,
                             live_keys_need_ip_ranges=False, revoke_unused_keys_after_days=30)
    keys = [make_key(app, "READ_ONLY", name=f"k{i}", environment="test")[0] for i in range(5)]
    start = keys[0].created_at
    noticed = _in_threads(unused_keys_run, start + timedelta(days=24))
    assert sum(r["noticed"] for r in noticed) == 5
    assert UnusedKeyNotice.objects.count() == 5
    revoked = _in_threads(unused_keys_run, start + timedelta(days=31))
    assert sum(r["revoked"] for r in revoked) == 5
    assert ApiKey.objects.filter(revoked_at__isnull=False).count() == 5
    assert AuditEvent.objects.filter(action="api_key.revoked").count() == 5


def test_concurrent_flushes_keep_the_latest_use(app, make_key) -> None:
    key, _ = make_key(app, "READ_ONLY")
    now = time.time()
    batches = [{(app.organization_id, key.pk, None, 0, "apps:read"): now - i * 60} for i in range(RUNS)]
    barrier = threading.Barrier(RUNS)

    def flush(batch):
        barrier.wait()
        try:
            store_scope_usage(batch)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(RUNS) as pool:
        list(pool.map(flush, batches))
    row = ScopeUsage.objects.get(api_key=key, scope="apps:read")
    assert abs(row.last_used_at.timestamp() - now) < 1
