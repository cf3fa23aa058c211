"""Benchmark of the API's hot paths. Run by hand; it prints figures to quote and never asserts on time.

    .venv/bin/python bench/api_bench.py                                   # SQLite: key auth, verification
    .venv/bin/python bench/api_bench.py --postgres                        # the same on PostgreSQL
    .venv/bin/python bench/api_bench.py --postgres --redis                # with the credential cache, limits off/on
    .venv/bin/python bench/api_bench.py --postgres --redis --ratelimits   # rate limiting on and off
    .venv/bin/python bench/api_bench.py --oauth                           # client secrets, Bearer tokens
    .venv/bin/python bench/api_bench.py --jwt                             # JWT against opaque access tokens
    .venv/bin/python bench/api_bench.py --webhooks                        # POST /api/v1/api-keys, endpoint or not
    .venv/bin/python bench/api_bench.py --usage                           # usage counting and the log on/off
    .venv/bin/python bench/api_bench.py --postgres --redis --usage        # the same, counts through Redis
    .venv/bin/python bench/api_bench.py --postgres --request-log          # newest 50 of a key, 10k vs 10M rows

Each server is gunicorn on loopback, loaded with wrk (``apt-get install wrk``), so it measures what a client
sees. Cases are run in interleaved rounds (``--rounds``). Each ratio is printed three ways: from the best
round of each case; as the median of the ratios within each round; and from the machine's CPU time per
request (server, database, cache and wrk together, from /proc/stat), which time stolen by a busy host does not
move, though other work on the machine still does. Throughput is bound by CPU on these machines, so all three
read the same thing; on a shared machine they differ by a few hundredths, so quote all three, from one run.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
NO_LIMIT = "1000000000/m"  # for the "limits on" server: counted like any other, never reached


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
        "PYTHONWARNINGS": "ignore",
    }
    if args.postgres:
        env["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{args.database}{args.pg_options}"
    else:
        env["DATABASE_URL"] = f"sqlite:///{workdir / 'bench.sqlite3'}"
    if args.redis:
        env["REDIS_URL"] = f"redis://127.0.0.1:6379/{args.redis_db}"
    # The embedded broker in a folder of this run (jobs are enqueued, no worker takes them).
    env["PORTAL_CELERY_FOLDER"] = str(workdir / "celery")
    return env


def manage(env: dict[str, str], *argv: str) -> str:
    result = subprocess.run([PYTHON, "manage.py", *argv], cwd=ROOT, env=env, capture_output=True, text=True,
                            check=True)
    return result.stdout


def labelled(output: str, label: str) -> str:
    return re.search(rf"^{label}: (\S+)$", output, re.M).group(1)


def prepare_database(args: argparse.Namespace, env: dict[str, str]) -> dict[str, str]:
    if args.postgres:
        for sql in (f"DROP DATABASE IF EXISTS {args.database}", f"CREATE DATABASE {args.database}"):
            subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", sql], check=True, capture_output=True)
    manage(env, "migrate", "--noinput", "-v0")
    manage(env, "create_organization", "Bench", "--owner", "bench@example.com", "--slug", "bench")
    out = manage(env, "issue_api_key", "--org", "bench", "--name", "bench", "--preset", "READ_ONLY")
    return {"key": labelled(out, "key")}


def prepare_oauth(env: dict[str, str]) -> dict[str, str]:
    """Two client-credentials clients: one with the portal's keyed hash, one with DOT's default (PBKDF2)."""
    fast = manage(env, "create_oauth_client", "--org", "bench", "--name", "fast", "--grant", "client_credentials",
                  "--scopes", "apps:read")
    slow = manage(env, "create_oauth_client", "--org", "bench", "--name", "pbkdf2", "--grant",
                  "client_credentials", "--scopes", "apps:read")
    slow_id, slow_secret = labelled(slow, "client_id"), labelled(slow, "client_secret")
    # Store the second secret as django-oauth-toolkit would by default: a password hash (PBKDF2).
    manage(env, "shell", "-c",
           "from django.contrib.auth.hashers import make_password; from oauthapps.models import OAuthClient; "
           f"OAuthClient.objects.filter(client_id={slow_id!r}).update("
           f"client_secret=make_password({slow_secret!r}, hasher='pbkdf2_sha256'))")
    return {"fast_id": labelled(fast, "client_id"), "fast_secret": labelled(fast, "client_secret"),
            "slow_id": slow_id, "slow_secret": slow_secret}


def wait_for_port(port: int, *, seconds: float, what: str) -> None:
    """Return once something accepts connections on ``127.0.0.1:port``; stop the bench if ``what`` never does."""
    deadline = time.time() + seconds
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            if time.time() > deadline:
                raise SystemExit(f"{what} did not start") from None
            time.sleep(0.1)


@contextmanager
def serve(env: dict[str, str], workers: int, app: str = "portal.wsgi", probe: str = "/api/v1/scopes"):
    port = free_port()
    process = subprocess.Popen(
        [PYTHON, "-m", "gunicorn", app, "-w", str(workers), "-b", f"127.0.0.1:{port}",
         "--log-level", "error"],
        cwd=ROOT, env=env,
    )
    try:
        wait_for_port(port, seconds=30, what="gunicorn")
        base = f"http://127.0.0.1:{port}"
        subprocess.run(["wrk", "-t1", "-c4", "-d1s", f"{base}{probe}"], capture_output=True, check=True)
        serve.pids[base] = process.pid
        yield base
    finally:
        process.terminate()
        process.wait(10)


serve.pids = {}  # base URL -> gunicorn master's pid, for server_cpu_seconds


def server_cpu_seconds(pid: int) -> float:
    """CPU time gunicorn's workers (the master's children) have used, from /proc: what the server itself spends,
    which other work on a shared machine does not move."""
    total = 0.0
    children = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        children += (task / "children").read_text().split()
    for child in children:
        fields = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def busy_cpu_seconds() -> float:
    """CPU time the whole machine has spent working (user, system, interrupts), from /proc/stat. Time stolen by
    the hypervisor and idle time are not in it."""
    with open("/proc/stat") as stat:
        fields = [int(value) for value in stat.readline().split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq = fields[:7]
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def wrk(url: str, seconds: int, connections: int, header: str | None = None, body: str | None = None,
        content_type: str = "application/x-www-form-urlencoded") -> dict:
    # A 30 s time-out: wrk's default of 2 s drops slow requests (a PBKDF2 token request) from the count.
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "30s", "--latency"]
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        if body is not None:  # wrk sends a body only from a Lua script
            script.write(f'wrk.method = "POST"\nwrk.body = [[{body}]]\n'
                         f'wrk.headers["Content-Type"] = "{content_type}"\n')
            script.flush()
            command += ["-s", script.name]
        if header:
            command += ["-H", header]
        server_pid = next((pid for base, pid in serve.pids.items() if url.startswith(base)), None)
        busy_before = busy_cpu_seconds()
        server_before = server_cpu_seconds(server_pid) if server_pid else 0.0
        output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
        busy = busy_cpu_seconds() - busy_before
        server = server_cpu_seconds(server_pid) - server_before if server_pid else 0.0
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    requests_done = int(re.search(r"(\d+) requests in", output).group(1))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)

    def percentile(p: str) -> float:
        match = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s|m)\s*$", output, re.M)
        if match is None:
            raise SystemExit(f"could not read the {p}th percentile from wrk:\n{output}")
        value, unit = match.groups()
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]

    return {"rps": rps, "p50": percentile("50"), "p99": percentile("99"),
            "errors": int(non_2xx.group(1)) if non_2xx else 0,
            "cpu_us": busy / max(1, requests_done) * 1e6,  # machine CPU per request: server, database, cache, wrk
            "server_us": server / max(1, requests_done) * 1e6}  # the gunicorn workers' own CPU per request


def compare(args: argparse.Namespace, cases: list[tuple], ratios: list[tuple[str, int, int, str]],
            content_type: str = "application/x-www-form-urlencoded") -> None:
    """Run ``cases`` (label, url, header, body) in interleaved rounds; print the best round of each, and each
    ratio twice: from the best rounds, and as the median of the ratios within each round (the two cases of a
    round run a few seconds apart, so a machine that slows down or speeds up between rounds moves both)."""
    for _label, url, header, body in cases:  # warm every worker's code paths for each case, uncounted
        wrk(url, 1, args.connections, header, body, content_type)
    time.sleep(3)
    rounds: list[dict[str, dict]] = []
    for _round in range(args.rounds):
        results = {}
        for label, url, header, body in cases:
            results[label] = wrk(url, args.seconds, args.connections, header, body, content_type)
            time.sleep(3)  # let requests still in flight (a slow hash takes a second) finish before the next case
        rounds.append(results)
    best = {label: max((r[label] for r in rounds), key=lambda result: result["rps"]) for label, *_ in cases}
    for label, *_ in cases:
        r = best[label]
        print(f"  {label:58} {r['rps']:8.1f} req/s   p50 {r['p50']:8.2f} ms   p99 {r['p99']:8.2f} ms"
              f"   non-2xx {r['errors']}   {statistics.median(x[label]['cpu_us'] for x in rounds):6.0f} us CPU/req"
              f"   {statistics.median(x[label]['server_us'] for x in rounds):6.0f} us server CPU/req")
    for text, numerator, denominator, target in ratios:
        top, bottom = cases[numerator][0], cases[denominator][0]
        # A round in which a shared machine stalled wrk (no request done) says nothing: it is left out.
        counted = [r for r in rounds if r[top]["rps"] > 0 and r[bottom]["rps"] > 0 and r[top]["server_us"] > 0]
        if not counted:
            print(f"  {text}: no round completed both cases")
            continue
        per_round = sorted(r[top]["rps"] / r[bottom]["rps"] for r in counted)
        # Throughput is bound by CPU here, so the ratio of CPU per request is the ratio of throughputs a
        # machine whose CPU is not shared would see.
        cpu = statistics.median(r[bottom]["cpu_us"] / r[top]["cpu_us"] for r in counted)
        server = statistics.median(r[bottom]["server_us"] / r[top]["server_us"] for r in counted)
        print(f"  {text}: {best[top]['rps'] / best[bottom]['rps']:.2f} from the best rounds, "
              f"{statistics.median(per_round):.2f} median of {len(per_round)} rounds "
              f"({min(per_round):.2f}-{max(per_round):.2f}), {cpu:.2f} from CPU per request, "
              f"{server:.2f} from the server's own CPU per request ({target})")


def key_auth_rounds(args, env, data) -> None:
    """Key authentication against no authentication. With Redis, once with the per-credential limits off and
    once on (the production default), where a cached key is fetched and counted in the same round trip."""
    setups = [("limits off", env)]
    if args.redis:
        setups.append(("limits on", {**env, "PORTAL_RATELIMITS": "on", "PORTAL_API_READ_RATE": NO_LIMIT}))
    with ExitStack() as stack:
        cases, ratios = [], []
        for label, setup_env in setups:
            base = stack.enter_context(serve(setup_env, args.workers))
            suffix = f", {label}" if args.redis else ""
            cases += [
                (f"GET /api/v1/scopes (no authentication){suffix}", f"{base}/api/v1/scopes", None, None),
                (f"GET /api/v1/hello with X-API-Key{suffix}", f"{base}/api/v1/hello", f"X-API-Key: {data['key']}",
                 None),
            ]
            ratios.append((f"key auth throughput / unauthenticated{suffix}", len(cases) - 1, len(cases) - 2,
                           "target: at least 0.85" if label == "limits on" else "target: at least 0.90"))
        compare(args, cases, ratios)


def ratelimit_rounds(args, env, data) -> None:
    limited = {**env, "PORTAL_RATELIMITS": "on", "PORTAL_API_READ_RATE": NO_LIMIT}
    with ExitStack() as stack:
        off, on = stack.enter_context(serve(env, args.workers)), stack.enter_context(serve(limited, args.workers))
        header = f"X-API-Key: {data['key']}"
        compare(args, [
            ("GET /api/v1/hello with a key, limits off", f"{off}/api/v1/hello", header, None),
            ("GET /api/v1/hello with a key, limits on", f"{on}/api/v1/hello", header, None),
        ], [("limits on / limits off", 1, 0, "target: at least 0.90")])


def usage_rounds(args, env, data) -> None:
    """Key-authenticated GET /api/v1/hello with usage counting and the request log on, against off (the per-credential
    limits off in both, so that only the usage work differs). Counting appends to a buffer in each worker; a thread
    writes it once a second (to the database, or with --redis the counts to Redis), so the cost is that append and
    the thread's batched writes."""
    header = f"X-API-Key: {data['key']}"
    with ExitStack() as stack:
        if not args.in_process:
            off = stack.enter_context(serve({**env, "PORTAL_USAGE": "off"}, args.workers))
            on = stack.enter_context(serve({**env, "PORTAL_USAGE": "on"}, args.workers))
            compare(args, [
                ("GET /api/v1/hello with a key, usage off", f"{off}/api/v1/hello", header, None),
                ("GET /api/v1/hello with a key, usage on", f"{on}/api/v1/hello", header, None),
            ], [("usage on / usage off", 1, 0, "target: at least 0.95")])
    # The same work in-process, in CPU time, which a busy machine moves far less than throughput: what a request
    # pays (an id, and the append to the buffer), and what the flush thread pays per request it writes.
    script = """
import time, django
django.setup()
from types import SimpleNamespace
from django.conf import settings
from django.http import HttpResponse
from django.test import RequestFactory
from apikeys.models import ApiKey
from portal.api.observe import request_id_for
from portal.conf import portal_settings
from usage.recorder import recorder
settings.PORTAL["USAGE_BACKGROUND_FLUSH"] = False  # flushed below, by hand
portal_settings.reload()
key = ApiKey.objects.get(name="bench")
request = RequestFactory().get("/api/v1/hello", HTTP_USER_AGENT="bench")
request.auth = SimpleNamespace(auth_type="api_key", credential=key, organization_id=key.organization_id)
response, n = HttpResponse(), 5000
best_record = best_flush = best_flush_cpu = float("inf")
for _ in range(5):
    start = time.process_time()
    for _ in range(n):
        request.request_id = request_id_for(request)
        recorder.observe(request, response, time.time(), 0.001)
    best_record = min(best_record, (time.process_time() - start) / n * 1e6)
    start, cpu = time.perf_counter(), time.process_time()
    recorder.flush()
    best_flush = min(best_flush, (time.perf_counter() - start) / n * 1e6)
    best_flush_cpu = min(best_flush_cpu, (time.process_time() - cpu) / n * 1e6)
print(f"  in the request: an X-Request-Id and the count and log row appended: {best_record:.1f} us CPU a request")
print(f"  in the flush thread: {best_flush_cpu:.1f} us CPU of the worker, {best_flush:.1f} us in all (the database's"
      f" share included) a request, in batches of {n:,}")
# Without the thread, each request would write its own count and log row (a batch of one).
best_single = best_single_cpu = float("inf")
for _ in range(3):
    start, cpu = time.perf_counter(), time.process_time()
    for _ in range(200):
        request.request_id = request_id_for(request)
        recorder.observe(request, response, time.time(), 0.001)
        recorder.flush()
    best_single = min(best_single, (time.perf_counter() - start) / 200 * 1e6)
    best_single_cpu = min(best_single_cpu, (time.process_time() - cpu) / 200 * 1e6)
print(f"  written by the request itself (a batch of one): {best_single_cpu:.1f} us CPU, {best_single:.1f} us in all"
      " a request")
"""
    subprocess.run([PYTHON, "-c", script], cwd=ROOT, env={**env, "DJANGO_SETTINGS_MODULE": "portal.settings"},
                   check=True)


def request_log_rounds(args, env, data) -> None:
    """Listing the newest 50 requests of one key (what GET /api/v1/request-logs?apiKeyId= runs), with a small and a
    large log, in-process; a bare query timed beside each shows how fast the machine was at that moment."""
    script = f"""
import time, django
django.setup()
from django.db import connection
from apikeys.models import ApiKey
from bench.fill import fill_request_log
from usage.selectors import organization_request_logs
key = ApiKey.objects.get(name="bench")
def timed(n=300, rounds=5):
    best = float("inf")
    for _ in range(rounds):
        assert len(list(organization_request_logs(key.organization, api_key=key)[:51])) == 51
        start = time.perf_counter()
        for _ in range(n):
            list(organization_request_logs(key.organization, api_key=key)[:51])
        best = min(best, (time.perf_counter() - start) / n * 1e6)
    return best
def bare_query(n=2000, rounds=5):
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(n):
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
                cursor.fetchone()
        best = min(best, (time.perf_counter() - start) / n * 1e6)
    return best
started = time.time()
fill_request_log(key, {args.small_log})
floor_small, small = bare_query(), timed()
fill_request_log(key, {args.large_log})
print(f"  filled {args.large_log:,} rows in {{time.time() - started:.0f}} s")
floor_large, large = bare_query(), timed()
print(f"  a bare SELECT 1 through Django (the floor of any query): {{floor_small:.1f}} us, then {{floor_large:.1f}} us")
print(f"  newest 50 of one key with {args.small_log:>10,} rows in the log: {{small:7.1f}} us")
print(f"  newest 50 of one key with {args.large_log:>10,} rows in the log: {{large:7.1f}} us")
print(f"  large / small: {{large / small:.2f}}, {{(large / floor_large) / (small / floor_small):.2f}} against the floor"
      f" (target: at most 1.50)")
"""  # noqa: S608 (Python source for a subprocess, not SQL)
    subprocess.run([PYTHON, "-c", script], cwd=ROOT, env={**env, "DJANGO_SETTINGS_MODULE": "portal.settings"},
                   check=True)


def oauth_rounds(args, env, data) -> None:
    clients = prepare_oauth(env)
    with serve(env, args.workers) as base:
        import requests

        token = requests.post(f"{base}/oauth/token/", data={
            "grant_type": "client_credentials", "client_id": clients["fast_id"],
            "client_secret": clients["fast_secret"]}, timeout=30).json()["access_token"]

        def form(prefix: str) -> str:
            return (f"grant_type=client_credentials&client_id={clients[prefix + '_id']}"
                    f"&client_secret={clients[prefix + '_secret']}")

        compare(args, [
            ("GET /api/v1/hello with X-API-Key", f"{base}/api/v1/hello", f"X-API-Key: {data['key']}", None),
            ("GET /api/v1/hello with a Bearer access token", f"{base}/api/v1/hello",
             f"Authorization: Bearer {token}", None),
            ("POST /oauth/token/, portal's keyed hash", f"{base}/oauth/token/", None, form("fast")),
            ("POST /oauth/token/, DOT's default hash (PBKDF2)", f"{base}/oauth/token/", None, form("slow")),
        ], [("token requests, keyed hash / PBKDF2", 2, 3, "target: at least 50"),
            ("Bearer token throughput / API key", 1, 0, "target: at least 0.90")])


def jwt_rounds(args, env, data) -> None:
    """``GET /api/v1/hello`` with a JWT access token (RFC 9068) against an opaque one, in the same run: the portal
    looks both up by their SHA-256, so the JWT's only extra cost is hashing ~800 bytes instead of 30. Then a JWT
    verified as a service elsewhere would, with the JWKS alone (jwcrypto, signature and claims), in-process."""
    import json

    import requests
    from jwcrypto import jwk, jwt

    clients = {}
    for name, token_format in (("opaque", "opaque"), ("jwt", "jwt")):
        out = manage(env, "create_oauth_client", "--org", "bench", "--name", name, "--grant", "client_credentials",
                     "--scopes", "apps:read", "--access-token-format", token_format)
        clients[name] = (labelled(out, "client_id"), labelled(out, "client_secret"))
    with serve(env, args.workers) as base:
        tokens = {}
        for name, (client_id, secret) in clients.items():
            answer = requests.post(f"{base}/oauth/token/", data={"grant_type": "client_credentials"},
                                   auth=(client_id, secret), timeout=30).json()
            tokens[name] = answer["access_token"]
            print(f"  {name} access token: {len(answer['access_token'])} characters, expires_in {answer['expires_in']}")
        # A JWT lives 5 minutes: the rounds must end before it does.
        if 2 * args.rounds * (args.seconds + 3) + 30 > 280:
            raise SystemExit("--rounds x --seconds too long for a JWT's 5 minutes")
        compare(args, [
            ("GET /api/v1/hello with an opaque access token", f"{base}/api/v1/hello",
             f"Authorization: Bearer {tokens['opaque']}", None),
            ("GET /api/v1/hello with a JWT access token", f"{base}/api/v1/hello",
             f"Authorization: Bearer {tokens['jwt']}", None),
        ], [("JWT / opaque throughput", 1, 0, "target: at least 0.90")])
        key_set = jwk.JWKSet.from_json(requests.get(f"{base}/oauth/jwks/", timeout=30).text)
    n, best = 2000, float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(n):
            verified = jwt.JWT(jwt=tokens["jwt"], key=key_set, expected_type="JWS")
        best = min(best, (time.perf_counter() - start) / n * 1e6)
    claims = json.loads(verified.claims)
    print(f"  verify one JWT access token with the JWKS alone (jwcrypto, RS256 and exp): {best:7.1f} us"
          f" (org {claims['org']}, scope {claims['scope']})")
    # The portal's own check of each, in-process (best of 5): steadier than throughput on a busy machine.
    timing = f"""
import time, django
django.setup()
from oauthapps.verification import verify_access_token
def timed(token, n=2000):
    best = float("inf")
    for _ in range(5):
        assert verify_access_token(token) is not None
        start = time.perf_counter()
        for _ in range(n):
            verify_access_token(token)
        best = min(best, (time.perf_counter() - start) / n * 1e6)
    return best
opaque, signed = timed({tokens['opaque']!r}), timed({tokens['jwt']!r})
print(f"  the portal's check of an opaque access token: {{opaque:7.1f}} us, of a JWT one: {{signed:7.1f}} us"
      f" (JWT / opaque: {{signed / opaque:.2f}})")
"""
    subprocess.run([PYTHON, "-c", timing], cwd=ROOT, env={**env, "DJANGO_SETTINGS_MODULE": "portal.settings"},
                   check=True)
def webhook_rounds(args, env, data) -> None:
    """``POST /api/v1/api-keys`` in an organization without a webhook endpoint and in one with an endpoint that
    takes ``api_key.created``, on the same server: the second also writes the event's row in the request's
    transaction and asks for the sweep after commit (no worker runs, so nothing is sent). First, in-process,
    the queries of one request of each and the CPU time per request (figures to read beside wrk's)."""
    def organization(slug: str) -> tuple[str, int]:
        manage(env, "create_organization", slug.title(), "--owner", f"{slug}@example.com", "--slug", slug)
        key = labelled(manage(env, "issue_api_key", "--org", slug, "--name", "maker", "--preset", "ADMIN",
                              "--app", "Bench"), "key")
        app_id = manage(env, "shell", "-c", "from applications.models import Application; "
                        f"print(Application.objects.get(organization__slug={slug!r}, name='Bench').pk)")
        return key, int(app_id.split()[-1])

    plain_key, plain_app = organization("plain")
    hooked_key, hooked_app = organization("hooked")
    manage(env, "shell", "-c",
           "from accounts.models import Organization; from portal.callers import Caller; "
           "from webhooks.services import webhook_endpoint_create; "
           "webhook_endpoint_create(caller=Caller.system(Organization.objects.get(slug='hooked')), "
           "url='https://hooks.bench.invalid/portal', event_types=['api_key.created'])")

    def body(app_id: int) -> str:
        return f'{{"name": "bench", "applicationId": {app_id}, "scopePreset": "READ_ONLY", "environment": "test"}}'

    in_process = f"""
import time, django
django.setup()
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
client = Client(HTTP_HOST="127.0.0.1")
cases = [("no webhook endpoint", {plain_key!r}, {body(plain_app)!r}),
         ("an endpoint takes api_key.created", {hooked_key!r}, {body(hooked_app)!r})]
def post(key, body):
    assert client.post("/api/v1/api-keys", body, content_type="application/json", HTTP_X_API_KEY=key).status_code == 201
for label, key, body in cases:
    post(key, body)
    with CaptureQueriesContext(connection) as queries:
        post(key, body)
    print(f"  in-process, {{label}}: {{len(queries.captured_queries)}} queries")
best = {{label: float("inf") for label, *_ in cases}}
for _round in range(5):
    for label, key, body in cases:
        start = time.process_time()
        for _ in range(200):
            post(key, body)
        best[label] = min(best[label], (time.process_time() - start) / 200 * 1e6)
for label, *_ in cases:
    print(f"  in-process, {{label}}: {{best[label]:7.0f}} us CPU per request")
first, second = (best[label] for label, *_ in cases)
print(f"  in-process, with an endpoint / without: {{first / second:.2f}} (target: at least 0.90)")
"""
    subprocess.run([PYTHON, "-c", in_process], cwd=ROOT, env={**env, "DJANGO_SETTINGS_MODULE": "portal.settings"},
                   check=True)

    with serve(env, args.workers) as base:
        compare(args, [
            ("POST /api/v1/api-keys, no webhook endpoint", f"{base}/api/v1/api-keys", f"X-API-Key: {plain_key}",
             body(plain_app)),
            ("POST /api/v1/api-keys, an endpoint takes api_key.created", f"{base}/api/v1/api-keys",
             f"X-API-Key: {hooked_key}", body(hooked_app)),
        ], [("with an endpoint / without", 1, 0, "target: at least 0.90")], content_type="application/json")


# The peers (--peers): the same endpoints built on drf-api-key and django-oauth-toolkit at their defaults
# (bench/peers), served beside the portal, each from a copy of the library the benchmark installs itself.
PEERS = ("djangorestframework-api-key==3.1.0", "django-oauth-toolkit==3.4.1")


def install_peers() -> Path:
    """pip installs the peers (without their dependencies, which the portal's virtualenv has) into a folder of their
    own, once per version; the peer server finds them first on its ``PYTHONPATH``."""
    folder = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "portal-bench-peers" / "-".join(
        spec.replace("==", "_") for spec in PEERS)
    if not (folder / "rest_framework_api_key").is_dir():
        subprocess.run([PYTHON, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(folder), *PEERS],
                       check=True)
    return folder


def prepare_peers(args: argparse.Namespace, env: dict[str, str], workdir: Path) -> dict[str, str]:
    """The peers' own database (migrated), a drf-api-key key and a DOT client-credentials client whose secret DOT
    stores as it does by default (hashed with Django's password hasher)."""
    folder = install_peers()
    peers_env = {**env, "DJANGO_SETTINGS_MODULE": "bench.peers.settings",
                 "PYTHONPATH": os.pathsep.join([str(folder), str(ROOT)])}
    if args.postgres:
        database = f"{args.database}_peers"
        for sql in (f"DROP DATABASE IF EXISTS {database}", f"CREATE DATABASE {database}"):
            subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", sql], check=True, capture_output=True)
        peers_env["PEERS_DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{database}{args.pg_options}"
    else:
        peers_env["PEERS_DATABASE_URL"] = f"sqlite:///{workdir / 'peers.sqlite3'}"
    subprocess.run([PYTHON, "-m", "django", "migrate", "--noinput", "-v0"], cwd=ROOT, env=peers_env, check=True)
    secret = secrets.token_urlsafe(32)
    script = f"""
import django
django.setup()
import oauth2_provider, rest_framework_api_key
from oauth2_provider.models import Application
from rest_framework_api_key.models import APIKey
assert oauth2_provider.__file__.startswith({str(folder)!r}), oauth2_provider.__file__
_, key = APIKey.objects.create_key(name="bench")
client = Application.objects.create(name="bench", client_type=Application.CLIENT_CONFIDENTIAL, client_secret={secret!r},
                                    authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS)
print("key:", key)
print("client_id:", client.client_id)
print("stored secret:", client.client_secret.split("$")[0])
"""
    out = subprocess.run([PYTHON, "-c", script], cwd=ROOT, env=peers_env, check=True, capture_output=True,
                         text=True).stdout
    print(f"  peers: {', '.join(PEERS)} from {folder}; "
          f"DOT stores the client secret with {labelled(out, 'stored secret')}")
    return {"env": peers_env, "key": labelled(out, "key"), "client_id": labelled(out, "client_id"), "secret": secret}


def peer_rounds(args, env, data, workdir: Path) -> None:
    """The portal against its peers, in one run: a key request against drf-api-key's, a Bearer request against
    django-oauth-toolkit's, the token endpoint against DOT's; and a key request against the open endpoint."""
    import requests

    peers = prepare_peers(args, env, workdir)
    clients = prepare_oauth(env)
    with ExitStack() as stack:
        base = stack.enter_context(serve(env, args.workers))
        peer = stack.enter_context(serve(peers["env"], args.workers, app="bench.peers.wsgi",
                                         probe="/key/hello"))
        token = requests.post(f"{base}/oauth/token/", data={
            "grant_type": "client_credentials", "client_id": clients["fast_id"],
            "client_secret": clients["fast_secret"]}, timeout=30).json()["access_token"]
        answer = requests.post(f"{peer}/o/token/", data={
            "grant_type": "client_credentials", "client_id": peers["client_id"], "client_secret": peers["secret"],
            "scope": "read"}, timeout=60)
        if answer.status_code != 200:
            raise SystemExit(f"DOT's token endpoint answered {answer.status_code}: {answer.text[:300]}")
        peer_token = answer.json()["access_token"]
        form = f"grant_type=client_credentials&client_id={clients['fast_id']}&client_secret={clients['fast_secret']}"
        peer_form = f"grant_type=client_credentials&client_id={peers['client_id']}&client_secret={peers['secret']}"
        compare(args, [
            ("portal: GET /api/v1/scopes (open, no credential)", f"{base}/api/v1/scopes", None, None),
            ("portal: GET /api/v1/hello with X-API-Key", f"{base}/api/v1/hello", f"X-API-Key: {data['key']}", None),
            ("drf-api-key: GET /key/hello with Api-Key", f"{peer}/key/hello", f"Authorization: Api-Key {peers['key']}",
             None),
            ("portal: GET /api/v1/hello with a Bearer token", f"{base}/api/v1/hello", f"Authorization: Bearer {token}",
             None),
            ("DOT: GET /bearer/hello with a Bearer token", f"{peer}/bearer/hello",
             f"Authorization: Bearer {peer_token}", None),
            ("portal: POST /oauth/token/ (client credentials)", f"{base}/oauth/token/", None, form),
            ("DOT: POST /o/token/ (client credentials)", f"{peer}/o/token/", None, peer_form),
        ], [("key / open", 1, 0, "target: at least 0.90 limits off, 0.85 on"),
            ("key / drf-api-key", 1, 2, "target: at least 1.5"),
            ("bearer / django-oauth-toolkit", 3, 4, "target: at least 2"),
            ("token endpoint / django-oauth-toolkit's", 5, 6, "target: at least 50")])


def publish_cost(args, env, data) -> None:
    """What the job publisher thread (``portal.outboxes``) saves a request, on the broker in use: publishing a job to it
    in the request (``apply_async``, what the request would do without the thread), against handing it to the thread
    (a queue put, and the thread's own publish, which runs beside the request on the same CPU). Wall and CPU time,
    best of 5 rounds, in-process."""
    script = """
import time, django
django.setup()
from django.conf import settings
from portal import jobs
from webhooks.tasks import deliver
print(f"  broker: {settings.CELERY_BROKER_URL.split('://')[0]}")
def timed(publish, n=300):
    best_wall = best_cpu = float("inf")
    for _ in range(5):
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(n):
            publish()
        best_wall = min(best_wall, (time.perf_counter() - wall) / n * 1e6)
        best_cpu = min(best_cpu, (time.process_time() - cpu) / n * 1e6)
    return best_wall, best_cpu
deliver.apply_async((0,))  # connect once (no worker runs: the jobs wait in the broker, for delivery 0, which is none)
inline = timed(lambda: deliver.apply_async((0,)))
handed = timed(lambda: jobs.send(deliver, 0))
time.sleep(2)  # let the thread publish what it was handed (its CPU is the process's too)
print(f"  published in the request (apply_async): {inline[0]:7.1f} µs wall, {inline[1]:7.1f} µs CPU a job")
print(f"  handed to the publisher thread (a queue put): {handed[0]:7.1f} µs wall, {handed[1]:7.1f} µs CPU a job,"
      " in the request")
"""
    subprocess.run([PYTHON, "-c", script], cwd=ROOT, env={**env, "DJANGO_SETTINGS_MODULE": "portal.settings"},
                   check=True)


def cost_table(args, env, data, profile: str | None = None) -> None:
    """The in-process cost table (``bench/costs.py``): µs per request in each middleware, authentication, usage
    counting, the events observer and rendering, for the open endpoint and a key request."""
    command = [PYTHON, "-m", "bench.costs", data["key"]]
    if profile in ("token", "queries", "token-commit"):
        clients = prepare_oauth(env)
        command += ["--client", clients["fast_id"], clients["fast_secret"], "--requests", "300"]
    if profile in ("queries", "token-commit"):
        command.append(f"--{profile}")
    elif profile:
        command += ["--profile", profile, "--profile-out", str(ROOT / "var" / f"bench-{profile}.prof")]
    subprocess.run(command, cwd=ROOT, env={**env, "DJANGO_SETTINGS_MODULE": "portal.settings"}, check=True)


def verification_rounds(args, env, data) -> None:
    """Key verification in-process: from the database with a small and a large table (the credential cache off)
    and, with Redis, from the shared credential cache. Each in its own process, set up by its environment."""
    common = f"""
import time, django
django.setup()
from apikeys.verification import verify_api_key
from bench.fill import fill_keys
def timed(n=2000, rounds=5):
    best = float("inf")
    for _ in range(rounds):
        verify_api_key({data['key']!r}, client_ip="127.0.0.1")
        start = time.perf_counter()
        for _ in range(n):
            verify_api_key({data['key']!r}, client_ip="127.0.0.1")
        best = min(best, (time.perf_counter() - start) / n * 1e6)
    return best
def bare_query(n=2000, rounds=5):
    from django.db import connection
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(n):
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
                cursor.fetchone()
        best = min(best, (time.perf_counter() - start) / n * 1e6)
    return best
"""  # noqa: S608 (Python source for a subprocess, not SQL)
    from_cache = """
print(f"  verify one key from the shared credential cache (Redis): {timed():7.1f} us")
"""
    # Filling the table takes minutes, in which a shared machine can change speed: a bare query timed beside
    # each measurement shows it, and the second ratio divides it out.
    from_database = f"""
fill_keys({args.small_table})
floor_small, small = bare_query(), timed()
fill_keys({args.large_table})
floor_large, large = bare_query(), timed()
print(f"  a bare SELECT 1 through Django (the floor of any query): {{floor_small:.1f}} us, then {{floor_large:.1f}} us")
print(f"  verify one key with {args.small_table:>9,} keys in the table: {{small:7.1f}} us")
print(f"  verify one key with {args.large_table:>9,} keys in the table: {{large:7.1f}} us")
print(f"  large / small: {{large / small:.2f}}, {{(large / floor_large) / (small / floor_small):.2f}} against the floor"
      f" (target: at most 1.20)")
"""
    env = {**env, "DJANGO_SETTINGS_MODULE": "portal.settings"}
    if args.redis:
        subprocess.run([PYTHON, "-c", common + from_cache], cwd=ROOT, env=env, check=True)
    subprocess.run([PYTHON, "-c", common + from_database], cwd=ROOT,
                   env={**env, "PORTAL_CREDENTIAL_CACHE_SECONDS": "0"}, check=True)


def add_server_arguments(parser: argparse.ArgumentParser, *, database: str, rounds: int) -> None:
    """The options every benchmark that serves the portal with gunicorn and loads it with wrk shares."""
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL on 127.0.0.1:5432 instead of SQLite")
    parser.add_argument("--pg-options", default="", help='appended to DATABASE_URL, e.g. "?pool=off"')
    parser.add_argument("--redis", action="store_true", help="Redis on 127.0.0.1:6379 as the cache")
    parser.add_argument("--database", default=database, help="PostgreSQL database (dropped and made again)")
    parser.add_argument("--redis-db", type=int, default=14, help="Redis database number")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=rounds, help="interleaved rounds of each case; the best counts")


def describe_run(args: argparse.Namespace) -> str:
    """The line each of those benchmarks prints first: what was measured, on what."""
    return (f"database: {'PostgreSQL' if args.postgres else 'SQLite'}; cache: {'Redis' if args.redis else 'local'};"
            f" gunicorn workers: {args.workers}; wrk connections: {args.connections};"
            f" {args.rounds} rounds of {args.seconds}s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_server_arguments(parser, database="portal_bench", rounds=2)
    parser.add_argument("--ratelimits", action="store_true", help="only: rate limiting on and off (use --redis)")
    parser.add_argument("--oauth", action="store_true", help="only: client-secret hashing and Bearer tokens")
    parser.add_argument("--jwt", action="store_true", help="only: JWT against opaque access tokens, JWKS verification")
    parser.add_argument("--webhooks", action="store_true", help="only: making keys with and without an endpoint")
    parser.add_argument("--usage", action="store_true", help="only: usage counting and the request log on and off")
    parser.add_argument("--costs", action="store_true", help="only: the in-process cost table")
    parser.add_argument("--peers", action="store_true",
                        help="only: key, bearer and token endpoint against drf-api-key and django-oauth-toolkit")
    parser.add_argument("--queries", action="store_true", help="only: the queries of one request of each case")
    parser.add_argument("--publish", action="store_true",
                        help="only: publishing a job in the request against the publisher thread (use --redis)")
    parser.add_argument("--token-commit", action="store_true",
                        help="only: a token request with and without waiting for the WAL flush (use --postgres)")
    parser.add_argument("--profile", choices=["open", "key", "token"],
                        help="only: cProfile of one case, in-process (its stats also go to var/bench-<case>.prof)")
    parser.add_argument("--request-log", action="store_true",
                        help="only: listing the newest 50 requests of a key, small log against large (use --postgres)")
    parser.add_argument("--small-log", type=int, default=10_000)
    parser.add_argument("--large-log", type=int, default=10_000_000)
    parser.add_argument("--small-table", type=int, default=1_000)
    parser.add_argument("--large-table", type=int, default=1_000_000)
    parser.add_argument("--in-process", action="store_true", help="with --usage: only the in-process figures")
    parser.add_argument("--skip-verify", action="store_true", help="skip the in-process verification timing")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed: apt-get install wrk")
    with tempfile.TemporaryDirectory() as tmp:
        env = base_env(args, Path(tmp))
        data = prepare_database(args, env)
        print(describe_run(args))
        if args.peers:
            peer_rounds(args, env, data, Path(tmp))
        elif args.publish:
            publish_cost(args, env, data)
        elif args.costs or args.profile or args.queries or args.token_commit:
            mode = "queries" if args.queries else "token-commit" if args.token_commit else args.profile
            cost_table(args, env, data, mode)
        elif args.ratelimits:
            ratelimit_rounds(args, env, data)
        elif args.oauth:
            oauth_rounds(args, env, data)
        elif args.jwt:
            jwt_rounds(args, env, data)
        elif args.webhooks:
            webhook_rounds(args, env, data)
        elif args.usage:
            usage_rounds(args, env, data)
        elif args.request_log:
            request_log_rounds(args, env, data)
        else:
            cost_table(args, env, data)
            key_auth_rounds(args, env, data)
            if not args.skip_verify:
                verification_rounds(args, env, data)


if __name__ == "__main__":
    main()
