"""Hashing for secrets that are stored only as hashes: keyed (invitation tokens, API keys, client secrets) and
plain SHA-256 (the checksums under which django-oauth-toolkit stores tokens).

Pure functions: no models, no queries.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from portal.conf import portal_settings


def keyed_hash(value: str, *, purpose: str) -> str:
    """HMAC-SHA-256 of ``value`` under ``PORTAL_HASH_KEY``, domain-separated by ``purpose``.

    The purpose keeps a hash made for one kind of secret from ever matching another kind.
    """
    key = portal_settings.HASH_KEY.encode()
    return hmac.new(key, f"{purpose}\x00{value}".encode(), hashlib.sha256).hexdigest()


def sha256(value: str) -> str:
    """The hex SHA-256 of ``value``: the checksum under which DOT stores tokens (RFC 9700 storage), and under
    which OAuth codes are remembered when spent. Unkeyed, because DOT looks tokens up by it."""
    return hashlib.sha256(value.encode()).hexdigest()


def new_token(nbytes: int = 32) -> str:
    """A URL-safe random token from the operating system's CSPRNG."""
    return secrets.token_urlsafe(nbytes)
