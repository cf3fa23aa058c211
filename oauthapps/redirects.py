"""Redirect URI rules (RFC 9700, RFC 8252): exact strings, ``https``, or ``http`` on loopback only."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

MAX_URIS = 20
MAX_LENGTH = 2000


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def redirect_uri_problem(uri: str) -> str | None:
    """Why ``uri`` cannot be registered, in words a developer can act on; None when it can."""
    if not uri or len(uri) > MAX_LENGTH:
        return f"Give a URI of 1 to {MAX_LENGTH} characters."
    if any(ch.isspace() for ch in uri):
        return "A redirect URI cannot contain spaces."
    if "*" in uri:
        return "Wildcards are not allowed: register each redirect URI exactly."
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 (raises ValueError on a bad port)
    except ValueError:
        return "This is not a valid URI."
    if "#" in uri:
        return "A redirect URI cannot have a fragment (#...)."
    if parts.scheme not in ("https", "http"):
        return "Use https (or http for a loopback address such as http://127.0.0.1:8080/callback)."
    if not parts.hostname:
        return "The URI needs a host."
    if parts.username or parts.password:
        return "A redirect URI cannot carry a user name or password."
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        return "Plain http is allowed only for loopback addresses (localhost, 127.0.0.1, [::1]); use https."
    return None


def clean_redirect_uris(uris: list[str]) -> tuple[list[str], dict[str, str]]:
    """The URIs de-duplicated in order, and a problem per refused URI."""
    cleaned = list(dict.fromkeys(u.strip() for u in uris if u and u.strip()))
    problems = {uri: problem for uri in cleaned if (problem := redirect_uri_problem(uri))}
    if len(cleaned) > MAX_URIS:
        problems["*"] = f"Register at most {MAX_URIS} redirect URIs."
    return cleaned, problems
