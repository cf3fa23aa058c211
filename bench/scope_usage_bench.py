"""What recording each call's scope costs (contract section 19: at most 2% of key-authenticated throughput).

    .venv/bin/python bench/scope_usage_bench.py                        # SQLite
    .venv/bin/python bench/scope_usage_bench.py --postgres --redis     # PostgreSQL, counts through Redis

Two gunicorn servers of the same code side by side, ``PORTAL_SCOPE_USAGE`` on and off (usage counting on in both,
per-credential limits off in both, so only the scope recording differs), loaded with wrk in interleaved rounds
on ``GET /api/v1/applications`` with a key (an endpoint that needs a scope, so every call records one). Then the
same work in-process in CPU time: what ``UsageRecorder.observe`` costs a request with a scope to record and
without, and what the flush thread pays per request.

Kept apart from ``bench/api_bench.py`` (whose servers, wrk runs and ratios it reuses) so the two can change
independently.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.api_bench import (  # noqa: E402
    PYTHON,
    ROOT,
    add_server_arguments,
    base_env,
    compare,
    describe_run,
    prepare_database,
    serve,
)

IN_PROCESS = """
import time, django
django.setup()
from types import SimpleNamespace
from django.http import HttpResponse
from django.test import RequestFactory
from apikeys.models import ApiKey
from usage.recorder import recorder
from security.scope_usage import store_scope_usage
key = ApiKey.objects.get(name="bench")
caller = SimpleNamespace(auth_type="api_key", credential=key, organization_id=key.organization_id, user=None)
response, n = HttpResponse(), 5000
def requests(with_scope):
    out = []
    for i in range(n):
        request = RequestFactory().get("/api/v1/applications", HTTP_USER_AGENT="bench")
        request.auth, request.request_id = caller, f"{i:032x}"
        if with_scope:
            request.portal_scopes_used = ["apps:read"]
        out.append(request)
    return out
with_scope, without = requests(True), requests(False)
best = {True: float("inf"), False: float("inf")}
for _ in range(7):
    for flag, batch in ((False, without), (True, with_scope)):
        recorder.discard()
        start = time.process_time()
        for request in batch:
            recorder.observe(request, response, time.time(), 0.001)
        best[flag] = min(best[flag], (time.process_time() - start) / n * 1e6)
recorder.discard()
print(f"  observe() a request: {best[False]:.2f} us CPU without a scope, {best[True]:.2f} us with one "
      f"(+{best[True] - best[False]:.2f} us)")
batch = {(key.organization_id, key.pk, None, 0, f"scope{i % 20}"): time.time() for i in range(200)}
start = time.perf_counter()
for _ in range(20):
    store_scope_usage(batch)
print(f"  a flush's scope upsert: {(time.perf_counter() - start) / 20 * 1000:.2f} ms for 200 (credential, scope) rows "
      "(once a second per worker, whatever the number of requests)")
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_server_arguments(parser, database="portal_bench_scopes", rounds=3)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed: apt-get install wrk")
    with tempfile.TemporaryDirectory() as tmp:
        env = base_env(args, Path(tmp))
        data = prepare_database(args, env)
        print(f"{describe_run(args)}; load average before: {os.getloadavg()}")
        header = f"X-API-Key: {data['key']}"
        with ExitStack() as stack:
            off = stack.enter_context(serve({**env, "PORTAL_SCOPE_USAGE": "off"}, args.workers))
            on = stack.enter_context(serve({**env, "PORTAL_SCOPE_USAGE": "on"}, args.workers))
            compare(args, [
                ("GET /api/v1/applications with a key, scope usage off", f"{off}/api/v1/applications", header, None),
                ("GET /api/v1/applications with a key, scope usage on", f"{on}/api/v1/applications", header, None),
            ], [("scope usage on / off", 1, 0, "target: at least 0.98")])
        print(f"  load average after: {os.getloadavg()}")
        subprocess.run([PYTHON, "-c", IN_PROCESS], cwd=ROOT, env={**env, "DJANGO_SETTINGS_MODULE": "portal.settings"},
                       check=True)


if __name__ == "__main__":
    main()
