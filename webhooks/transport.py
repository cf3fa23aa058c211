"""Sending a delivery without letting an endpoint reach inside the network (SSRF).

- ``check_url`` at registration: ``https`` (``http`` only where private targets are allowed), no
  credentials, no fragment; a literal address or a name that resolves to a loopback, private, link-local,
  metadata or otherwise non-public address is refused unless ``PORTAL_WEBHOOKS_ALLOW_PRIVATE`` is on.
- ``post`` at each delivery: the host is resolved again and *every* address checked (a name may have been
  pointed elsewhere since, DNS rebinding), then the connection goes to an address that was checked, never
  to the name again. TLS still verifies the certificate against the name. No redirect is followed
  (``http.client`` follows none), the whole exchange is bounded by the timeout, and at most 1 KiB of the
  answer is read.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from portal.conf import portal_settings

RESPONSE_KEPT_BYTES = 1024


class RefusedTarget(ValueError):
    """The URL may not be used as a webhook endpoint; the message says why, for the person registering it."""


def _allow_private() -> bool:
    return bool(portal_settings.WEBHOOKS_ALLOW_PRIVATE)


def is_public_address(address: str) -> bool:
    """Only globally routable unicast addresses: loopback, private (RFC 1918, ULA), link-local (the cloud
    metadata service at 169.254.169.254 among them), shared, reserved, multicast and unspecified are not."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def _resolve(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))  # the address (typeshed: str | int)


def _literal(host: str) -> str | None:
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        return None


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str


def parse(url: str) -> Target:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise RefusedTarget("Enter a valid URL.") from None
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http") or not parts.hostname:
        raise RefusedTarget("Enter an https:// URL.")
    if scheme == "http" and not _allow_private():
        raise RefusedTarget("Use https: webhooks carry your organization's data.")
    if parts.username is not None or parts.password is not None:
        raise RefusedTarget("Leave credentials out of the URL; verify deliveries with the signing secret.")
    if parts.fragment or url.rstrip().endswith("#"):
        raise RefusedTarget("A webhook URL has no fragment (#...).")
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return Target(scheme=scheme, host=parts.hostname, port=port or (443 if scheme == "https" else 80), path=path)


def _refuse_private(addresses: list[str]) -> None:
    if _allow_private():
        return
    for address in addresses:
        if not is_public_address(address):
            raise RefusedTarget("This address is loopback, private, link-local or reserved: the portal does not "
                                "send webhooks inside its own network.")


def check_url(url: str) -> Target:
    """Validate ``url`` for registration. A name that does not resolve yet is accepted (each delivery checks
    it again); one that resolves to a refused address is not."""
    target = parse(url)
    literal = _literal(target.host)
    if literal is not None:
        _refuse_private([literal])
        return target
    if target.host.rstrip(".").lower() in ("localhost", "localhost.localdomain") \
            or target.host.rstrip(".").lower().endswith(".localhost"):
        _refuse_private(["127.0.0.1"])
    try:
        addresses = _resolve(target.host, target.port)
    except (socket.gaierror, UnicodeError, OSError):
        return target
    _refuse_private(addresses)
    return target


@dataclass(frozen=True)
class Answer:
    status_code: int | None
    body: str
    error: str
    duration_ms: int

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to an address checked beforehand, whatever the name resolves to now."""

    def __init__(self, address: str, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, address: str, *args, **kwargs) -> None:
        self._tls = ssl.create_default_context()
        super().__init__(*args, context=self._tls, **kwargs)
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._tls.wrap_socket(sock, server_hostname=self.host)


def post(url: str, body: bytes, headers: dict[str, str]) -> Answer:
    """POST ``body`` to ``url`` under the rules above. Never raises for the endpoint's failures: they are the
    ``error`` of the answer, for the delivery log."""
    timeout = float(portal_settings.WEBHOOK_TIMEOUT_SECONDS)
    started = time.monotonic()

    def answer(status_code: int | None = None, text: str = "", error: str = "") -> Answer:
        return Answer(status_code, text, error[:500], int((time.monotonic() - started) * 1000))

    try:
        target = parse(url)
        literal = _literal(target.host)
        addresses = [literal] if literal else _resolve(target.host, target.port)
        _refuse_private(addresses)
    except RefusedTarget as refused:
        return answer(error=f"Refused: {refused}")
    except (socket.gaierror, UnicodeError, OSError):
        return answer(error="The host name does not resolve.")
    connection_class = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    last_error = "Could not connect."
    for address in addresses:
        remaining = timeout - (time.monotonic() - started)
        if remaining <= 0:
            return answer(error=f"No answer within {timeout:g} seconds.")
        connection = connection_class(address, target.host, target.port, timeout=remaining)
        try:
            connection.request("POST", target.path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read(RESPONSE_KEPT_BYTES).decode("utf-8", "replace")
            if time.monotonic() - started > timeout:
                return answer(error=f"No answer within {timeout:g} seconds.")
            return answer(response.status, text)
        except TimeoutError:
            return answer(error=f"No answer within {timeout:g} seconds.")
        except ssl.SSLError as error:
            return answer(error=f"TLS failed: {error.reason or type(error).__name__}")
        except (OSError, http.client.HTTPException) as error:
            last_error = f"{type(error).__name__}: {error}"
        finally:
            connection.close()
    return answer(error=last_error)
