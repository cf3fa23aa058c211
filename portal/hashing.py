"""Hashing for secrets that are stored only as hashes: keyed (invitation tokens, API keys, client secrets) and
plain SHA-256 (the checksums under which django-oauth-toolkit stores tokens).

Pure functions: no models, no queries.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets

from portal.conf import portal_settings


def keyed_hash(value: str, *, purpose: str) -> str:
    """HMAC-SHA-256 of ``value`` under ``PORTAL_HASH_KEY``, domain-separated by ``purpose``.

    The purpose keeps a hash made for one kind of secret from ever matching another kind.
    """
    keyed = _keyed_sha256(portal_settings.HASH_KEY).copy()
    keyed.update(f"{purpose}\x00{value}".encode())
    return keyed.hexdigest()


@functools.lru_cache(maxsize=4)
def _keyed_sha256(key: str) -> hmac.HMAC:
    """HMAC-SHA-256 keyed with ``key`` and nothing hashed yet: copying it skips keying it again for every value
    (an API key is hashed on every request that presents one)."""
    return hmac.new(key.encode(), digestmod=hashlib.sha256)


def sha256(value: str) -> str:
    """The hex SHA-256 of ``value``: the checksum under which DOT stores tokens (RFC 9700 storage), and under
    which OAuth codes are remembered when spent. Unkeyed, because DOT looks tokens up by it."""
    return hashlib.sha256(value.encode()).hexdigest()


def new_token(nbytes: int = 32) -> str:
    """A URL-safe random token from the operating system's CSPRNG."""
    return secrets.token_urlsafe(nbytes)
