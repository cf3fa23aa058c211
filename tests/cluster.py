"""A Redis Cluster of three primaries for the tests (``.ci/redis-cluster``, Debian's ``redis-server`` on loopback
ports), and the fixture that empties whichever cluster the request path uses between tests."""

from __future__ import annotations

import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / ".ci" / "redis-cluster"


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        # A cluster node also listens on its port + 10000 (the cluster bus): keep both free.
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _bus_ports_free(ports: list[int]) -> bool:
    for port in ports:
        if port + 10000 > 65535:
            return False
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port + 10000))
            except OSError:
                return False
    return True


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of a fresh three-primary cluster, stopped at the end of the session."""
    if shutil.which("redis-server") is None:
        pytest.skip("needs Debian's redis-server (make redis-deps)")
    for _ in range(20):
        ports = _free_ports(3)
        if all(port < 55535 for port in ports) and _bus_ports_free(ports):
            break
    directory = tmp_path_factory.mktemp("redis-cluster")
    result = subprocess.run([str(SCRIPT), "start", str(directory), *map(str, ports)], capture_output=True, text=True,
                            timeout=120, check=False)
    if result.returncode != 0:
        subprocess.run([str(SCRIPT), "stop", str(directory)], check=False)
        raise RuntimeError(f"the Redis Cluster did not start: {result.stderr or result.stdout}")
    try:
        yield result.stdout.strip().splitlines()[-1]
    finally:
        subprocess.run([str(SCRIPT), "stop", str(directory)], check=False, timeout=60)


def flush_cluster() -> None:
    """Empty every primary of the request path's cluster, if it uses one."""
    from redis.cluster import RedisCluster

    from portal.request_redis import request_redis

    handle = request_redis()
    if handle is not None and handle.cluster:
        handle.client.flushdb(target_nodes=RedisCluster.PRIMARIES)


def delete_request_path_key(name: str) -> None:
    """Delete ``name`` (under the default cache's prefix) wherever the request path keeps it: the default cache's
    Redis or the cluster (``portal.request_redis``), and the default cache itself."""
    from django.core.cache import caches

    from portal.request_redis import request_redis

    caches["default"].delete(name)
    handle = request_redis()
    if handle is not None:
        handle.client.delete(handle.key(name))


def request_path_has_key(name: str) -> bool:
    from portal.request_redis import request_redis

    handle = request_redis()
    return handle is not None and bool(handle.client.exists(handle.key(name)))
