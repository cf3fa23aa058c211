"""Checking a presented API key: the hot path of every API request made with a key."""

from __future__ import annotations

import ipaddress
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from accounts.models import Organization
from apikeys import crypto
from apikeys.models import ApiKey
from audit.services import audit_record
from portal import requestpath
from portal.conf import portal_settings
from portal.ratelimit import RateWindow as Usage  # renamed in portal.ratelimit; this module is issue 23's
from portal.rows import fetch_row, model_from_row

logger = logging.getLogger(__name__)

LAST_USED_RESOLUTION = timedelta(minutes=1)

# One indexed query (unique index on public_id) with the organization's standing joined. Written as SQL because
# without the credential cache it runs on every request (see ``portal.requestpath`` for the figures).
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


def load_key(public_id: str) -> tuple[ApiKey, datetime | None] | None:
    """The key with this public id and its organization's ``suspended_at`` (only tested for None), or None."""
    row = fetch_row(KEY_QUERY, [public_id], (*KEY_COLUMNS, "organization_suspended_at"))
    if row is None:
        return None
    return model_from_row(ApiKey, row), row["organization_suspended_at"]


@dataclass(frozen=True)
class VerifiedKey:
    key: ApiKey
    counted: Usage | None = None  # this request's rate-limit count, when it was counted with the fetch


def verify_api_key(value: str, *, client_ip: str | None,
                   bucket_for: Callable[[str], requestpath.Bucket | None] | None = None) -> VerifiedKey:
    """The usable key for ``value``, or ``KeyRefused``.

    Format and checksum are checked before any I/O. Then the key comes from the shared credential cache (one
    Redis round trip that also counts the rate-limit bucket ``bucket_for(public_id)``, ``portal.requestpath``) or
    from one indexed query; either way a constant-time HMAC comparison and the key's own rules follow. The cache
    serves a key only while nothing it depends on has changed, so a revocation, rotation or suspension holds on
    every worker at the next request.
    """
    parsed = crypto.parse_key(value, prefix=portal_settings.KEY_PREFIX)
    if parsed is None:
        raise KeyRefused("malformed")
    presented_hash = crypto.hash_key(parsed.full_key)
    cache = requestpath.shared()
    bucket = bucket_for(parsed.public_id) if bucket_for is not None and cache is not None else None
    hit = cache.fetch("key", parsed.public_id, key_hash=presented_hash, bucket=bucket, touch=True) \
        if cache is not None else None
    if hit is not None:
        key, organization_suspended_at = model_from_row(ApiKey, hit.row), None
    else:
        read_at = time.monotonic()
        loaded = load_key(parsed.public_id)
        if loaded is None:
            raise KeyRefused("unknown")
        key, organization_suspended_at = loaded
    if not crypto.hashes_match(presented_hash, key.key_hash) or key.environment != parsed.environment:
        raise KeyRefused("unknown")
    if organization_suspended_at is not None:
        raise KeyRefused("organization suspended")
    if not key.is_usable:
        raise KeyRefused(key.status)
    if key.allowed_ips and not ip_allowed(client_ip, key.allowed_ips):
        audit_record(action="api_key.ip_refused", actor=key, organization_id=key.organization_id, target=key,
                     metadata={"publicId": key.public_id})
        raise KeyRefused("ip not allowed")
    if hit is not None:
        if hit.first_use_this_minute:
            touch_last_used(key, force=True)
        return VerifiedKey(key, bucket.usage(hit.count) if bucket is not None and hit.count is not None else None)
    touch_last_used(key)
    if cache is not None:
        cache.store(
            "key", key.public_id, {c: getattr(key, c) for c in KEY_COLUMNS}, read_at=read_at, key_hash=key.key_hash,
            own_limit=bool(key.rate_limit_per_minute), depends_on=key_dependencies(key), touched=True,
        )
    return VerifiedKey(key)


def key_dependencies(key: ApiKey) -> list[str]:
    """What a cached key depends on: itself and its organization."""
    return [requestpath.dependency("key", key.public_id), requestpath.dependency("org", key.organization_id)]


def ip_allowed(client_ip: str | None, ranges: list[str]) -> bool:
    if not client_ip:
        return False
    try:
        address = ipaddress.ip_address(client_ip)
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(network, strict=False) for network in ranges)


def touch_last_used(key: ApiKey, *, force: bool = False) -> None:
    """Keep ``last_used_at`` current to the minute: at most one UPDATE a minute per key, never one per request.
    ``force`` when the shared cache already decided that this is the key's first use this minute."""
    now = timezone.now()
    if not force and key.last_used_at is not None and now - key.last_used_at < LAST_USED_RESOLUTION:
        return
    stale = Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
    ApiKey.objects.filter(stale, pk=key.pk).update(last_used_at=now)
    key.last_used_at = now
