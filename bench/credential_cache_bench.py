"""In-process cost of a cached key request, this tree against another (say the commit before the credential cache
moved into each process's memory), in one run. Prints figures to quote; never asserts on time.

    .venv/bin/python bench/credential_cache_bench.py --before /tmp/before-tree [--requests 2000] [--rounds 3]

Each tree runs in its own Python process (Django's test client, debug off, PostgreSQL ``--database`` and Redis db
``--redis-db`` on 127.0.0.1, usage counting off so that only the request path is measured) and times
``GET /api/v1/scopes`` (open) and ``GET /api/v1/hello`` with a cached API key, with per-credential limits off and
on. The trees take turns, ``--rounds`` times; medians of the µs per request are printed, with key/open and
after/before ratios, and what a cached key request sends to Redis (each send is one round trip).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import json, os, sys, time
sys.path.insert(0, os.getcwd())
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
import django
django.setup()
from django.conf import settings
from django.core.management import call_command
from django.test import Client

call_command("migrate", verbosity=0)
from django.core.cache import caches
from accounts.models import Organization
from applications.models import Application
from apikeys.services import api_key_create
from portal.callers import Caller

caches["default"].clear()
organization = Organization.objects.create(name="Bench", slug=f"bench-{os.getpid()}-{time.time_ns()}")
application = Application.objects.create(organization=organization, name="bench")
_, key = api_key_create(caller=Caller.system(organization), application=application, name="bench",
                        scope_preset="READ_ONLY")
n = int(os.environ["BENCH_REQUESTS"])
client = Client(HTTP_X_API_KEY=key)
anonymous = Client()

def per_request(c, path):
    for _ in range(50):
        assert c.get(path).status_code == 200
    started = time.perf_counter()
    for _ in range(n):
        c.get(path)
    return (time.perf_counter() - started) / n * 1e6

def commands():
    from redis.connection import AbstractConnection
    sent, real = [], AbstractConnection.send_packed_command
    def counting(self, command, check_health=True):
        sent.append(b" ".join(part.split(b"\r\n")[2] for part in (command if isinstance(command, list) else [command])))
        return real(self, command, check_health)
    AbstractConnection.send_packed_command = counting
    try:
        client.get("/api/v1/hello")
    finally:
        AbstractConnection.send_packed_command = real
    return [c.decode() for c in sent]

from django.test.utils import override_settings

out = {}
for limits in ("off", "on"):
    with override_settings(PORTAL={**settings.PORTAL, "RATELIMITS_ENABLED": limits == "on",
                                   "API_READ_RATE": "1000000000/m"}):
        out[f"open, limits {limits}"] = per_request(anonymous, "/api/v1/scopes")
        out[f"key, limits {limits}"] = per_request(client, "/api/v1/hello")
        out[f"redis commands of a cached key request, limits {limits}"] = commands()
print(json.dumps(out))
"""


def run(tree: Path, args: argparse.Namespace) -> dict[str, object]:
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_DEBUG": "0", "DJANGO_SECRET_KEY": "bench-" + "x" * 50, "PORTAL_HASH_KEY": "bench-hash-key-" + "y" * 40,
        "PORTAL_ENCRYPTION_KEYS": "a" * 43 + "=", "DJANGO_ALLOWED_HOSTS": "testserver",
        "DJANGO_SECURE_SSL_REDIRECT": "0", "DJANGO_LOG_LEVEL": "ERROR", "PORTAL_USAGE": "off",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{args.database}",
        "REDIS_URL": f"redis://127.0.0.1:6379/{args.redis_db}", "BENCH_REQUESTS": str(args.requests),
    }
    result = subprocess.run([sys.executable, "-c", CHILD], cwd=tree, env=env, capture_output=True, text=True,
                            check=False)
    if result.returncode != 0:
        raise SystemExit(f"{tree}: {result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", type=Path, required=True, help="the other tree (e.g. a git archive of a commit)")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database", default="portal_credential_bench")
    parser.add_argument("--redis-db", type=int, default=7)
    args = parser.parse_args()
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", f"DROP DATABASE IF EXISTS {args.database}"],
                   check=True)
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", f"CREATE DATABASE {args.database}"],
                   check=True)
    trees = {"before": args.before.resolve(), "after": ROOT}
    rounds: dict[str, list[dict[str, object]]] = {name: [] for name in trees}
    for _ in range(args.rounds):
        for name, tree in trees.items():
            rounds[name].append(run(tree, args))
    medians: dict[str, dict[str, float]] = {}
    for name, results in rounds.items():
        medians[name] = {case: statistics.median(float(r[case]) for r in results)  # type: ignore[arg-type]
                         for case in results[0] if not case.startswith("redis")}
        print(f"{name} ({trees[name]}), medians of {args.rounds} rounds of {args.requests} requests:")
        for case, micros in medians[name].items():
            print(f"  {case:<20} {micros:8.1f} µs")
        for limits in ("off", "on"):
            ratio = medians[name][f"open, limits {limits}"] / medians[name][f"key, limits {limits}"]
            print(f"  key/open, limits {limits}: {ratio:.2f} (as throughput)")
            print(f"  redis commands of a cached key request, limits {limits}: "
                  f"{results[-1][f'redis commands of a cached key request, limits {limits}']}")
    for limits in ("off", "on"):
        case = f"key, limits {limits}"
        print(f"after/before, {case}: {medians['after'][case] / medians['before'][case]:.2f} of the time")


if __name__ == "__main__":
    main()
