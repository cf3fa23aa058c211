"""API-key format, generation, checksum and hashing. Pure: no models, no queries.

A key reads ``<prefix>_<env>_<body>``; the body is ``<public id><secret><checksum>``:

- public id: 12 base62 characters, stored in clear and shown in lists;
- secret: 40 base62 characters (about 238 bits) from ``secrets``;
- checksum: zlib's CRC-32 of everything before it, ``<prefix>_<env>_<id><secret>``, as 6 base62
  characters padded with leading zeros.

A mistyped or invented key fails the format or checksum test before any database query, and secret
scanners can recognise a real key from the outside.
"""

from __future__ import annotations

import hmac
import re
import secrets
import zlib
from dataclasses import dataclass

from portal.hashing import keyed_hash

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
PUBLIC_ID_LENGTH = 12
SECRET_LENGTH = 40
CHECKSUM_LENGTH = 6
BODY_LENGTH = PUBLIC_ID_LENGTH + SECRET_LENGTH + CHECKSUM_LENGTH
ENVIRONMENTS = ("live", "test")
HASH_PURPOSE = "api-key"
MAX_KEY_LENGTH = 100  # longer is not a key of ours, whatever its prefix

KEY_PATTERN = re.compile(
    rf"^(?P<prefix>[a-z][a-z0-9]{{0,15}})_(?P<env>live|test)_(?P<body>[0-9A-Za-z]{{{BODY_LENGTH}}})$"
)

KEY_START_PATTERN = re.compile(
    rf"^(?P<prefix>[a-z][a-z0-9]{{0,15}})_(?:live|test)_(?P<public_id>[0-9A-Za-z]{{{PUBLIC_ID_LENGTH}}})"
)


@dataclass(frozen=True)
class ParsedKey:
    prefix: str
    environment: str
    public_id: str
    full_key: str


def random_base62(length: int) -> str:
    return "".join(secrets.choice(BASE62) for _ in range(length))


def base62_encode(number: int, width: int) -> str:
    digits = []
    while number:
        number, rest = divmod(number, 62)
        digits.append(BASE62[rest])
    return "".join(reversed(digits)).rjust(width, "0")


def checksum(text: str) -> str:
    """zlib's CRC-32 of ``text`` as 6 base62 characters, zero-padded."""
    return base62_encode(zlib.crc32(text.encode()) & 0xFFFFFFFF, CHECKSUM_LENGTH)


def generate_key(*, prefix: str, environment: str, public_id: str | None = None) -> tuple[str, str]:
    """A new key and its public id. The key is shown to its owner once and never stored."""
    if environment not in ENVIRONMENTS:
        raise ValueError(f"environment must be one of {ENVIRONMENTS}")
    public_id = public_id or random_base62(PUBLIC_ID_LENGTH)
    head = f"{prefix}_{environment}_{public_id}{random_base62(SECRET_LENGTH)}"
    return head + checksum(head), public_id


def parse_key(value: str, *, prefix: str) -> ParsedKey | None:
    """The parts of a well-formed key with a valid checksum and our prefix, else None. No I/O."""
    if not value or len(value) > MAX_KEY_LENGTH:
        return None
    match = KEY_PATTERN.match(value)
    if match is None or match["prefix"] != prefix:
        return None
    head, check = value[:-CHECKSUM_LENGTH], value[-CHECKSUM_LENGTH:]
    if not secrets.compare_digest(checksum(head), check):
        return None
    return ParsedKey(
        prefix=prefix,
        environment=match["env"],
        public_id=match["body"][:PUBLIC_ID_LENGTH],
        full_key=value,
    )


def looks_like_key(value: str, *, prefix: str) -> bool:
    """Cheap test used to tell an API key from an OAuth token in ``Authorization: Bearer``."""
    return value.startswith(f"{prefix}_live_") or value.startswith(f"{prefix}_test_")


def public_id_in(value: str, *, prefix: str) -> str | None:
    """The public id a key begins with: of a whole key, of the masked form lists show, or of a key cut short,
    so a pasted key can be found by the part of it that is no secret. None when ``value`` does not begin like
    a key of ours. Its checksum is not checked: a key mistyped near its end is still looked for by its id."""
    match = KEY_START_PATTERN.match(value)
    if match is None or match["prefix"] != prefix:
        return None
    return match["public_id"]


def hash_key(key: str) -> str:
    """HMAC-SHA-256 of the whole key under ``PORTAL_HASH_KEY``: the only form ever stored."""
    return keyed_hash(key, purpose=HASH_PURPOSE)


def hashes_match(presented_hash: str, stored_hash: str) -> bool:
    """Constant-time comparison of a presented key's :func:`hash_key` with the stored one."""
    return hmac.compare_digest(presented_hash, stored_hash)


def mask(public_id: str, *, prefix: str, environment: str) -> str:
    """What lists show in place of a key: enough to recognise it, nothing to use."""
    return f"{prefix}_{environment}_{public_id}…"
