"""Real parts for the gateway tests: Debian's nginx on a loopback port, in front of a small upstream that is not
Django (Python's ``http.server``, echoing the headers it got as JSON).

Without ``/usr/sbin/nginx`` the nginx tests are skipped; ``make gateway-deps`` installs it. Under ``CI=true``
(``.ci/run``, which installs it) a missing nginx fails instead, as the browser tests do.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

NGINX = Path("/usr/sbin/nginx")
NGINX_PIDS: dict[str, int] = {}  # base URL -> master's pid, while it runs (the benchmark reads its workers' CPU)
CONFIG_TEMPLATE = Path(__file__).resolve().parents[2] / "gateway" / "deploy" / "nginx.conf"


def require_nginx() -> None:
    if not NGINX.exists():
        reason = f"{NGINX} is missing: run `make gateway-deps` (apt-get install nginx-light)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class EchoHandler(BaseHTTPRequestHandler):
    """Answers every method with 200 and ``{"method", "path", "headers"}`` of what it received.

    Written as a service's HTTP server writes: the status line, headers and body in one send, with ``TCP_NODELAY``
    (``http.server`` by default sends the headers and the body apart on a socket with Nagle's algorithm on, so a
    kept-alive connection waited for the peer's delayed ACK, about 40 ms, on every response)."""

    protocol_version = "HTTP/1.1"
    wbufsize = 64 * 1024  # buffered: handle_one_request flushes once, after the body
    disable_nagle_algorithm = True

    def _echo(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        body = json.dumps({"method": self.command, "path": self.path,
                           "headers": {name.lower(): value for name, value in self.headers.items()}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _echo  # noqa: N815

    def log_message(self, format: str, *args) -> None:  # noqa: A002
        pass


class EchoServer(ThreadingHTTPServer):
    """A thread per connection. Its listen backlog is a server's (nginx's is 511), not ``socketserver``'s 5: with 5, a
    burst of new connections overflowed it and the dropped SYNs were sent again a second later."""

    daemon_threads = True
    request_queue_size = 511

    def handle_error(self, request, client_address) -> None:
        pass  # a client that closes a kept-alive connection (wrk at the end of a run) is not an error here


@contextmanager
def echo_upstream() -> Iterator[str]:
    """``host:port`` of an echo server running in a thread."""
    server = EchoServer(("127.0.0.1", 0), EchoHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def render_config(*, listen_port: int, portal: str, upstream: str, basic: str, prefix: Path) -> str:
    """The README's configuration with the placeholders filled and the temporary paths under ``prefix``."""
    text = CONFIG_TEMPLATE.read_text()
    for placeholder, value in (("LISTEN_PORT", str(listen_port)), ("PORTAL_ADDRESS", portal),
                               ("UPSTREAM_ADDRESS", upstream), ("RESOURCE_SERVER_BASIC", basic)):
        text = text.replace(placeholder, value)
    temp_paths = "".join(f"    {kind}_temp_path {prefix / kind};\n"
                         for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    return text.replace("http {\n", "http {\n" + temp_paths, 1)


def without_forward_auth(config: str) -> str:
    """The same nginx and upstream with the portal left out (the benchmark's baseline): no ``auth_request``, so the
    variables it would set stay empty and every other line costs what it costs with it."""
    lines = [line for line in config.splitlines() if not line.strip().startswith("auth_request /")]
    return "\n".join(lines) + "\n"


@contextmanager
def running_nginx(config: str, prefix: Path, port: int) -> Iterator[str]:
    """nginx in the foreground with ``config``: its pid file, error log and temporary files under ``prefix``.
    Yields its base URL once it answers."""
    prefix.mkdir(parents=True, exist_ok=True)
    (prefix / "nginx.conf").write_text(config)
    user = "user root;" if os.geteuid() == 0 else ""  # as root, nginx's workers would otherwise become nobody
    process = subprocess.Popen(
        [str(NGINX), "-p", str(prefix), "-c", str(prefix / "nginx.conf"),
         "-g", f"daemon off; master_process on; worker_processes 1; pid {prefix / 'nginx.pid'}; "
               f"error_log {prefix / 'error.log'} warn; {user}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    base, deadline = f"http://127.0.0.1:{port}", time.time() + 20
    try:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"nginx did not start: {process.stderr.read().decode()}"
                                   f"{(prefix / 'error.log').read_text() if (prefix / 'error.log').exists() else ''}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.time() > deadline:
                    raise RuntimeError("nginx did not listen") from None
                time.sleep(0.05)
        NGINX_PIDS[base] = process.pid
        yield base
    finally:
        NGINX_PIDS.pop(base, None)
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def basic_value(client_id: str, secret: str) -> str:
    return base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def remove(prefix: Path) -> None:
    shutil.rmtree(prefix, ignore_errors=True)
