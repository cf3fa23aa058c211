"""A stand-in for GitHub: an ECDSA P-256 key pair made in the test, its public key served as GitHub serves them
(a tiny HTTP server on a loopback ephemeral port), and reports signed with its private key."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from rest_framework.test import APIClient

SCANNING_URL = "/api/v1/secret-scanning/github"
KEY_IDENTIFIER = "90a421169f0a406205f1563a953312f0be898d3c7b6c06b681aa86a874555f4a"


def make_key_pair() -> tuple[ec.EllipticCurvePrivateKey, str]:
    private = ec.generate_private_key(ec.SECP256R1())
    pem = private.public_key().public_bytes(serialization.Encoding.PEM,
                                            serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, pem


def sign(private: ec.EllipticCurvePrivateKey, body: bytes) -> str:
    return base64.b64encode(private.sign(body, ec.ECDSA(hashes.SHA256()))).decode()


class KeysServer:
    """Serves ``{"public_keys": [...]}``; ``down`` makes it answer 500; ``hits`` counts the fetches."""

    def __init__(self) -> None:
        self.public_keys: list[dict] = []
        self.down = False
        self.hits = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                server.hits += 1
                if server.down:
                    self.send_response(500)
                    self.end_headers()
                    return
                body = json.dumps({"public_keys": server.public_keys}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/meta/public_keys/secret_scanning"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def add_key(self, identifier: str, pem: str, is_current: bool = True) -> None:
        self.public_keys.append({"key_identifier": identifier, "key": pem, "is_current": is_current})

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def keys_server(settings) -> Iterator[KeysServer]:
    server = KeysServer()
    settings.PORTAL = {**settings.PORTAL, "SECRET_SCANNING_KEYS_URL": server.url}
    yield server
    server.stop()


@pytest.fixture
def github_key(keys_server) -> ec.EllipticCurvePrivateKey:
    """GitHub's signing key, published by ``keys_server`` under ``KEY_IDENTIFIER`` (beside an older one)."""
    keys_server.add_key("0123old", make_key_pair()[1], is_current=False)
    private, pem = make_key_pair()
    keys_server.add_key(KEY_IDENTIFIER, pem)
    return private


@pytest.fixture
def report(github_key):
    """``report(items, body=None, identifier=KEY_IDENTIFIER, signature=None, signer=github_key) -> Response``.

    ``items`` are ``{"token", "type", "url", "source"}`` dicts (or bare tokens); the body is signed as sent unless
    ``signature`` is given; ``None`` for ``identifier`` or ``signature=""`` leaves that header out."""

    def _report(items, *, body: bytes | None = None, identifier: str | None = KEY_IDENTIFIER,
                signature: str | None = None, signer=None, signed_body: bytes | None = None):
        items = [item if isinstance(item, dict) else finding(item) for item in items]
        body = body if body is not None else json.dumps(items).encode()
        if signature is None:
            signature = sign(signer or github_key, signed_body if signed_body is not None else body)
        headers = {}
        if identifier is not None:
            headers["HTTP_GITHUB_PUBLIC_KEY_IDENTIFIER"] = identifier
        if signature:
            headers["HTTP_GITHUB_PUBLIC_KEY_SIGNATURE"] = signature
        return APIClient().generic("POST", SCANNING_URL, body, content_type="application/json", **headers)

    return _report


def finding(token: str, url: str = "https://github.com/octo/hello/blob/abc123/config.py") -> dict[str, str]:
    return {"token": token, "type": "portal_api_key", "url": url, "source": "content"}
