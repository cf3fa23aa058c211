"""Benchmark of forward authentication (section 18). Run by hand; it prints figures to quote and never asserts.

    .venv/bin/python bench/gateway_bench.py                       # SQLite, local cache
    .venv/bin/python bench/gateway_bench.py --postgres --redis    # PostgreSQL and Redis (the credential cache)
    .venv/bin/python bench/gateway_bench.py --costs [--profile]   # where /gateway/auth's time goes, in-process

Two ratios, each case run in interleaved rounds in the same run (``bench/api_bench.py`` says how each ratio is
read three ways):

1. ``/gateway/auth`` with a known key (a resource server's credentials, the key, the original method and URI)
   against the portal's open endpoint ``GET /api/v1/scopes``, on the same gunicorn (target: at least 0.9);
2. Debian's nginx with forward authentication (``gateway/deploy/nginx.conf``, one portal call per request) in
   front of the echo upstream of the tests, against the same nginx and upstream without it (target: at least 0.8;
   Kong's published key-auth plus rate-limit keeps 0.74-0.76 of its bare proxy).

The echo upstream (``tests.gateway.realparts.EchoServer``, the tests' own, in a process of its own) stands in for a
service that does next to nothing per request: it parses the request and answers a small JSON body, a thread per
connection, kept alive by nginx's ``keepalive 32``. It answers as a service's HTTP server does (the whole response
in one send, ``TCP_NODELAY``, a listen backlog of 511 as nginx's): before, ``http.server``'s two sends per response
waited ~40 ms for a delayed ACK and its backlog of 5 dropped SYNs (a 1 s retry), which capped the bare case at
~300 req/s and made ratio 2 meaningless. A real service does more per request (a query, a template), so the echo
is the hardest fair baseline: whatever the portal's decision costs weighs more against it than against any service.
On one machine, every part (wrk, nginx, the upstream, the portal) shares the same CPUs, so ratio 2 is close to
CPU(nginx + upstream) / CPU(nginx + upstream + the portal's decision); ``us CPU/req`` shows each case's share.

Usage counting and the request log stay on, as in production; the per-credential limits are on with a limit that
is never reached, so every decision is counted. On a shared machine, quote the load average printed at the start
and the end.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from contextlib import ExitStack, contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import api_bench  # noqa: E402
from bench.api_bench import (  # noqa: E402
    NO_LIMIT,
    ROOT,
    add_server_arguments,
    base_env,
    compare,
    describe_run,
    free_port,
    labelled,
    manage,
    serve,
    wait_for_port,
)
from tests.gateway.realparts import (  # noqa: E402
    NGINX_PIDS,
    basic_value,
    render_config,
    running_nginx,
    without_forward_auth,
)

_plain_wrk = api_bench.wrk


def wrk(url: str, seconds: int, connections: int, header=None, body=None,
        content_type: str = "application/x-www-form-urlencoded") -> dict:
    """``api_bench.wrk`` with several headers (a tuple): wrk takes them from a Lua script."""
    if not isinstance(header, tuple):
        return _plain_wrk(url, seconds, connections, header, body, content_type)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        for line in header:
            name, value = line.split(": ", 1)
            script.write(f'wrk.headers["{name}"] = "{value}"\n')
    try:
        return _wrk_with_script(url, seconds, connections, script.name)
    finally:
        os.unlink(script.name)


def _wrk_with_script(url: str, seconds: int, connections: int, script: str) -> dict:
    # api_bench.wrk adds a script only for a body: add this one to the wrk command it runs.
    original_run = subprocess.run

    def run(command, *args, **kwargs):
        if command and command[0] == "wrk" and "-s" not in command:
            command = [*command[:-1], "-s", script, command[-1]]
        return original_run(command, *args, **kwargs)

    subprocess.run = run
    try:
        return _plain_wrk(url, seconds, connections, None, None)
    finally:
        subprocess.run = original_run


api_bench.wrk = wrk  # compare() calls api_bench.wrk


@contextmanager
def echo_process():
    """The tests' echo upstream in a process of its own (not sharing this one's interpreter lock)."""
    port = free_port()
    code = ("from tests.gateway.realparts import EchoHandler, EchoServer; "
            f"EchoServer(('127.0.0.1', {port}), EchoHandler).serve_forever()")
    process = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT)
    try:
        wait_for_port(port, seconds=20, what="the echo upstream")
        yield f"127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_server_arguments(parser, database="portal_bench_gateway", rounds=2)
    parser.add_argument("--costs", action="store_true",
                        help="only: the in-process cost table (bench/costs.py) of the open endpoint, a key request "
                             "and /gateway/auth, all three with the same key")
    parser.add_argument("--profile", action="store_true", help="with --costs: cProfile's top functions instead")
    args = parser.parse_args()
    for tool in ("wrk", "/usr/sbin/nginx"):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} is missing: apt-get install wrk nginx-light")
    print(f"load average at the start: {load_average()} (on {os.cpu_count()} CPUs)")
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        workdir = Path(tmp)
        env = {**base_env(args, workdir), "PORTAL_RATELIMITS": "on", "PORTAL_API_READ_RATE": NO_LIMIT,
               "PORTAL_API_WRITE_RATE": NO_LIMIT}
        data = api_bench.prepare_database(args, env)
        out = manage(env, "issue_api_key", "--org", "bench", "--name", "gateway", "--preset", "ADMIN")
        key = labelled(out, "key")
        out = manage(env, "create_resource_server", "orders-api", "--scopes", "apps:read", "keys:read")
        client_id, secret = labelled(out, "client_id"), labelled(out, "client_secret")
        del data
        if args.costs:
            command = [sys.executable, "-m", "bench.costs", key, "--gateway", client_id, secret]
            if args.profile:
                command += ["--profile", "gateway", "--profile-out", str(ROOT / "var" / "bench-gateway.prof")]
            subprocess.run(command, cwd=ROOT, env={**env, "DJANGO_SETTINGS_MODULE": "portal.settings"}, check=True)
            return
        print(f"{describe_run(args)}; usage on, limits on (never reached)")
        portal = stack.enter_context(serve(env, args.workers))
        upstream = stack.enter_context(echo_process())
        configs = []
        for name in ("with", "without"):
            port = free_port()
            config = render_config(listen_port=port, portal=portal.removeprefix("http://"), upstream=upstream,
                                   basic=basic_value(client_id, secret), prefix=workdir / f"nginx-{name}")
            # The README's routes need orders:*; the bench's server serves apps:read, asked for explicitly.
            config = re.sub(r'"orders:(read|write)"', '"apps:read"', config)
            configs.append(config if name == "with" else without_forward_auth(config))
            configs[-1] = (configs[-1], workdir / f"nginx-{name}", port)
        with_auth = stack.enter_context(running_nginx(*configs[0]))
        without_auth = stack.enter_context(running_nginx(*configs[1]))
        # For the nginx cases, "server CPU" is nginx's worker's (the portal's and the upstream's are not in it).
        serve.pids.update(NGINX_PIDS)
        gateway_headers = (f"Portal-Gateway-Authorization: Basic {basic_value(client_id, secret)}",
                           f"X-API-Key: {key}", "X-Forwarded-Method: GET", "X-Forwarded-Uri: /orders/7?x=1",
                           "Portal-Required-Scopes: apps:read")
        compare(args, [
            ("GET /api/v1/scopes (the open endpoint)", f"{portal}/api/v1/scopes", None, None),
            ("GET /gateway/auth with a known key", f"{portal}/gateway/auth", gateway_headers, None),
            ("nginx + echo upstream, no forward auth", f"{without_auth}/orders/7", f"X-API-Key: {key}", None),
            ("nginx + forward auth + echo upstream", f"{with_auth}/orders/7", f"X-API-Key: {key}", None),
        ], [
            ("/gateway/auth with a key / open endpoint", 1, 0, "target: at least 0.9"),
            ("nginx with forward auth / without", 3, 2, "target: at least 0.8"),
        ])
    print(f"load average at the end: {load_average()}")


if __name__ == "__main__":
    main()
