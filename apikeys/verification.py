"""Checking a presented API key: the hot path of every API request made with a key."""

from __future__ import annotations

import ipaddress
import logging
from datetime import datetime, timedelta

from django.core.signals import setting_changed
from django.db import DatabaseError
from django.db.models import Q
from django.utils import timezone

from accounts.models import Organization
from apikeys import crypto
from apikeys.models import ApiKey
from audit.services import audit_record
from portal.conf import portal_settings
from portal.credential_cache import credential_cache, dependency, verified_row
from portal.row_loader import model_from_row, private_copy

logger = logging.getLogger(__name__)

LAST_USED_RESOLUTION = timedelta(minutes=1)

# One indexed query (unique index on public_id) with the organization's standing joined. Written as SQL because
# without the credential cache it runs on every request (``portal.credential_cache`` says why).
KEY_COLUMNS = (
    "id", "organization_id", "application_id", "name", "public_id", "prefix", "environment", "key_hash", "scopes",
    "expires_at", "rate_limit_per_minute", "allowed_ips", "last_used_at", "revoked_at", "rotated_at",
)
KEY_QUERY = (
    f"SELECT {', '.join(f'k.{c}' for c in KEY_COLUMNS)}, o.suspended_at "  # noqa: S608 (names from model metadata; values are bound)
    f"FROM {ApiKey._meta.db_table} k JOIN {Organization._meta.db_table} o ON o.id = k.organization_id "
    "WHERE k.public_id = %s"
)


class KeyRefused(Exception):
    """The key cannot be used. The reason goes to the log, never to the caller."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


TOUCH_SECONDS = 60  # the marker that says a key's last use this minute is written (section 4 of the contract)
KEY_COLUMNS_AND_STANDING = (*KEY_COLUMNS, "organization_suspended_at")


def key_dependencies(row: dict) -> list[str]:
    """What a cached key depends on: itself and its organization."""
    return [dependency("key", row["public_id"]), dependency("org", row["organization_id"])]


def key_from_row(row: dict) -> tuple[ApiKey, datetime | None]:
    """What the credential cache keeps of a key's row: the key, built once, and its organization's standing."""
    return model_from_row(ApiKey, {c: row[c] for c in KEY_COLUMNS}), row["organization_suspended_at"]


def load_key(public_id: str) -> tuple[ApiKey, datetime | None, bool] | None:
    """The key with this public id (this request's own copy), its organization's ``suspended_at`` (only tested
    for None) and whether it came from the credential cache, or None."""
    kept, cached = verified_row("key", public_id, query=KEY_QUERY, columns=KEY_COLUMNS_AND_STANDING,
                                depends_on=key_dependencies, build=key_from_row)
    if kept is None:
        return None
    key, organization_suspended_at = kept
    return private_copy(key), organization_suspended_at, cached


def verify_api_key(value: str, *, client_ip: str | None) -> ApiKey:
    """The usable key for ``value``, or ``KeyRefused``.

    Format and checksum are checked before any I/O. Then the key's row comes from this process's credential
    cache (no round trip while nothing it depends on changed, ``portal.credential_cache``) or from one indexed
    query; either way a constant-time HMAC comparison and the key's own rules follow. A revocation, rotation or
    suspension makes every process forget the row, so it holds at the next request everywhere.
    """
    if not value or len(value) > crypto.MAX_KEY_LENGTH:
        raise KeyRefused("malformed")
    presented_hash = crypto.hash_key(value)
    known = _verified_parts.get(presented_hash)
    if known is None:
        parsed = crypto.parse_key(value, prefix=portal_settings.KEY_PREFIX)
        if parsed is None:
            raise KeyRefused("malformed")
        known = (parsed.public_id, parsed.environment)
    public_id, environment = known
    loaded = load_key(public_id)
    if loaded is None:
        raise KeyRefused("unknown")
    key, organization_suspended_at, cached = loaded
    if not crypto.hashes_match(presented_hash, key.key_hash) or key.environment != environment:
        raise KeyRefused("unknown")
    if organization_suspended_at is not None:
        raise KeyRefused("organization suspended")
    if not key.is_usable:
        raise KeyRefused(key.status)
    if key.allowed_ips and not ip_allowed(client_ip, key.allowed_ips):
        audit_record(action="api_key.ip_refused", actor=key, organization_id=key.organization_id, target=key,
                     metadata={"publicId": key.public_id})
        raise KeyRefused("ip not allowed")
    touch_last_used(key, cached=cached)
    if len(_verified_parts) >= MAX_VERIFIED_PARTS:
        _verified_parts.clear()
    _verified_parts[presented_hash] = known
    return key


# The public id and environment of each key this process has verified, by the key's hash: the same value always
# parses the same way, so its format and checksum are not worked out again on every request (a tenth of a cached
# check). Only verified keys go in (nothing a stranger sends fills it), and only hashes, never a key.
_verified_parts: dict[str, tuple[str, str]] = {}
MAX_VERIFIED_PARTS = 100_000


def _forget_verified_parts(*, setting: str, **kwargs: object) -> None:
    if setting == "PORTAL":  # the key prefix or the hash key may have changed
        _verified_parts.clear()


setting_changed.connect(_forget_verified_parts)


def ip_allowed(client_ip: str | None, ranges: list[str]) -> bool:
    if not client_ip:
        return False
    try:
        address = ipaddress.ip_address(client_ip)
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(network, strict=False) for network in ranges)


def touch_last_used(key: ApiKey, *, cached: bool = False) -> None:
    """Keep ``last_used_at`` current to the minute: at most one UPDATE a minute per key, never one per request.

    A key read from the database knows its ``last_used_at``. A cached one asks the marker ``cred:touch:key:<id>``
    that the first use of each minute sets for ``TOUCH_SECONDS`` (read through the credential cache's tracker, so
    no round trip while it stands). With the database down the write waits for the next minute: a key verified
    from the cache keeps working (section 20)."""
    cache = credential_cache()
    marker = f"cred:touch:key:{key.public_id}"
    try:
        if cached and cache is not None:
            if cache.marker_is_set(marker) or not cache.set_marker(marker, TOUCH_SECONDS):
                return
            now = timezone.now()
        else:
            now = timezone.now()
            if cache is not None:
                cache.set_marker(marker, TOUCH_SECONDS)  # so that this minute's cached uses ask no one
            if key.last_used_at is not None and now - key.last_used_at < LAST_USED_RESOLUTION:
                return
    except Exception as exc:  # redis-py's errors: the database decides alone
        logger.warning("Last-used marker unreachable (%s)", type(exc).__name__)
        now = timezone.now()
        if key.last_used_at is not None and now - key.last_used_at < LAST_USED_RESOLUTION:
            return
    stale = Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
    try:
        ApiKey.objects.filter(stale, pk=key.pk).update(last_used_at=now)
    except DatabaseError as exc:
        logger.warning("Could not write a key's last use (%s)", type(exc).__name__)
        return
    key.last_used_at = now
