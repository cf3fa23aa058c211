"""Benchmark of the API's hot paths. Run by hand; prints figures to quote, never asserts on time.

    .venv/bin/python bench/api_bench.py                 # SQLite
    .venv/bin/python bench/api_bench.py --postgres      # PostgreSQL on 127.0.0.1:5432
    .venv/bin/python bench/api_bench.py --postgres --redis --ratelimits   # + rate limits on and off

It serves the portal with gunicorn on loopback and loads it with wrk (``apt-get install wrk``), so it
measures what a client would see; then it times key verification in-process with 1,000 and with
1,000,000 keys in the table.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def base_env(args: argparse.Namespace, workdir: Path) -> dict[str, str]:
    from cryptography.fernet import Fernet

    env = {
        **os.environ,
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "PORTAL_HASH_KEY": secrets.token_urlsafe(48),
        "PORTAL_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DJANGO_LOG_LEVEL": "ERROR",
        "PORTAL_RATELIMITS": "off",
    }
    if args.postgres:
        env["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/portal_bench{args.pg_options}"
    else:
        env["DATABASE_URL"] = f"sqlite:///{workdir / 'bench.sqlite3'}"
    if args.redis:
        env["REDIS_URL"] = "redis://127.0.0.1:6379/14"
    return env


def manage(env: dict[str, str], *argv: str) -> str:
    result = subprocess.run([PYTHON, "manage.py", *argv], cwd=ROOT, env=env, capture_output=True, text=True,
                            check=True)
    return result.stdout


def prepare_database(args: argparse.Namespace, env: dict[str, str]) -> str:
    if args.postgres:
        subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", "DROP DATABASE IF EXISTS portal_bench"],
                       check=True, capture_output=True)
        subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", "CREATE DATABASE portal_bench"],
                       check=True, capture_output=True)
    manage(env, "migrate", "--noinput", "-v0")
    manage(env, "create_organization", "Bench", "--owner", "bench@example.com", "--slug", "bench")
    out = manage(env, "issue_api_key", "--org", "bench", "--name", "bench", "--preset", "READ_ONLY")
    return re.search(r"^key: (\S+)$", out, re.M).group(1)


def serve(env: dict[str, str], workers: int) -> tuple[subprocess.Popen, int]:
    port = free_port()
    process = subprocess.Popen(
        [PYTHON, "-m", "gunicorn", "portal.wsgi", "-w", str(workers), "-b", f"127.0.0.1:{port}",
         "--log-level", "error"],
        cwd=ROOT, env=env,
    )
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process, port
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("gunicorn did not start")


def wrk(url: str, seconds: int, connections: int, header: str | None = None) -> dict[str, float]:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    if header:
        command[1:1] = ["-H", header]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)

    def percentile(p: str) -> float:
        match = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s|m)\s*$", output, re.M)
        if match is None:
            raise SystemExit(f"could not read the {p}th percentile from wrk:\n{output}")
        value, unit = match.groups()
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]

    return {"rps": rps, "p50": percentile("50"), "p99": percentile("99"),
            "errors": int(non_2xx.group(1)) if non_2xx else 0}


def http_rounds(args: argparse.Namespace, env: dict[str, str], key: str) -> None:
    process, port = serve(env, args.workers)
    base = f"http://127.0.0.1:{port}"
    try:
        wrk(f"{base}/api/v1/scopes", 2, args.connections)  # warm up every worker
        cases = [
            ("GET /api/v1/scopes (no authentication)", f"{base}/api/v1/scopes", None),
            ("GET /api/v1/hello with X-API-Key", f"{base}/api/v1/hello", f"X-API-Key: {key}"),
        ]
        results = {}
        for _round in range(args.rounds):  # interleaved rounds; the best of each is kept
            for label, url, header in cases:
                r = wrk(url, args.seconds, args.connections, header)
                if label not in results or r["rps"] > results[label]["rps"]:
                    results[label] = r
        for label, _url, _header in cases:
            r = results[label]
            print(f"  {label:46} {r['rps']:8.0f} req/s   p50 {r['p50']:6.2f} ms   p99 {r['p99']:6.2f} ms"
                  f"   non-2xx {r['errors']}")
        plain, keyed = (results[label]["rps"] for label, _, _ in cases)
        print(f"  key authentication keeps {keyed / plain:.0%} of the unauthenticated throughput "
              f"(target: at least 85%)")
    finally:
        process.terminate()
        process.wait(10)


def verification_rounds(args: argparse.Namespace, env: dict[str, str], key: str) -> None:
    code = f"""
import time, django
django.setup()
from apikeys.verification import verify_api_key
from bench.fill import fill_keys
def timed(n=2000, rounds=5):
    best = float("inf")
    for _ in range(rounds):  # best of several rounds: the least disturbed by other work on the machine
        verify_api_key({key!r}, client_ip="127.0.0.1")
        start = time.perf_counter()
        for _ in range(n):
            verify_api_key({key!r}, client_ip="127.0.0.1")
        best = min(best, (time.perf_counter() - start) / n * 1e6)
    return best
fill_keys({args.small_table})
small = timed()
fill_keys({args.large_table})
large = timed()
print(f"  verify with {args.small_table:>9,} keys: {{small:7.1f}} us per key")
print(f"  verify with {args.large_table:>9,} keys: {{large:7.1f}} us per key"
      f"   (ratio {{large / small:.2f}}; target within 1.20)")
"""
    subprocess.run([PYTHON, "-c", code], cwd=ROOT, env={**env, "DJANGO_SETTINGS_MODULE": "portal.settings"},
                   check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL on 127.0.0.1:5432 instead of SQLite")
    parser.add_argument("--redis", action="store_true", help="Redis on 127.0.0.1:6379 as the cache")
    parser.add_argument("--pg-options", default="", help='appended to DATABASE_URL, e.g. "?pool=off"')
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds of each case; the best counts")
    parser.add_argument("--small-table", type=int, default=1_000)
    parser.add_argument("--large-table", type=int, default=1_000_000)
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--skip-verify", action="store_true")
    args = parser.parse_args()
    if not shutil.which("wrk") and not args.skip_http:
        raise SystemExit("wrk is not installed: apt-get install wrk")
    with tempfile.TemporaryDirectory() as tmp:
        env = base_env(args, Path(tmp))
        key = prepare_database(args, env)
        print(f"database: {'PostgreSQL' if args.postgres else 'SQLite'}; cache: {'Redis' if args.redis else 'local'}; "
              f"gunicorn workers: {args.workers}; wrk connections: {args.connections}; {args.seconds}s a round")
        if not args.skip_http:
            http_rounds(args, env, key)
        if not args.skip_verify:
            verification_rounds(args, env, key)


if __name__ == "__main__":
    main()
