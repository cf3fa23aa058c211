"""A resource server's credentials: made with ``secrets``, the secret stored only as a keyed hash
(HMAC-SHA-256 under ``PORTAL_HASH_KEY``), compared in constant time. Pure functions: no models, no queries."""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets
import string

from portal.hashing import keyed_hash

CLIENT_ID_PREFIX = "rs_"
ALPHABET = string.ascii_letters + string.digits
PURPOSE = "resource-server-secret"
MAX_CREDENTIAL_LENGTH = 200  # client ids are 27 characters and secrets 43: anything longer is not ours


def new_client_id() -> str:
    return CLIENT_ID_PREFIX + "".join(secrets.choice(ALPHABET) for _ in range(24))


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    return keyed_hash(secret, purpose=PURPOSE)


def secret_matches(secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(secret), stored_hash)


def basic_credentials(value: str | None) -> tuple[str, str] | None:
    """``(client_id, secret)`` of an HTTP Basic value (RFC 7617), or None when it is absent, of another scheme or
    malformed (not base64, not UTF-8, no colon, too long)."""
    if not value or value[:6].lower() != "basic " or len(value) > 4 * MAX_CREDENTIAL_LENGTH:
        return None
    try:
        decoded = base64.b64decode(value[6:].strip(), validate=True).decode()
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    client_id, separator, secret = decoded.partition(":")
    if not separator or not client_id or not secret or "\x00" in decoded:
        return None
    return client_id, secret
