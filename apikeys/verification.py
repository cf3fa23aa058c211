"""Checking a presented API key: the hot path of every API request made with a key."""

from __future__ import annotations

import ipaddress
import logging
from datetime import datetime, timedelta

from django.db import connection
from django.db.models import Q
from django.utils import timezone

from accounts.models import Organization
from apikeys import crypto
from apikeys.models import ApiKey
from audit.services import audit_record
from portal.conf import portal_settings
from portal.rows import model_from_row

logger = logging.getLogger(__name__)

LAST_USED_RESOLUTION = timedelta(minutes=1)

# One indexed query (unique index on public_id) with the organization's standing joined. Written as SQL
# because this runs on every request: building the same query through the ORM costs ten times more than
# running it (measured in bench/api_bench.py).
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
    with connection.cursor() as cursor:
        cursor.execute(KEY_QUERY, [public_id])
        row = cursor.fetchone()
    if row is None:
        return None
    return model_from_row(ApiKey, KEY_COLUMNS, row), row[-1]


def verify_api_key(value: str, *, client_ip: str | None) -> ApiKey:
    """The usable key for ``value``, or ``KeyRefused``.

    Format and checksum are checked before any query; then one indexed query, a constant-time HMAC
    comparison, and the key's own rules. Nothing is cached, so a revocation, rotation or suspension holds on
    every worker at the next request.
    """
    parsed = crypto.parse_key(value, prefix=portal_settings.KEY_PREFIX)
    if parsed is None:
        raise KeyRefused("malformed")
    loaded = load_key(parsed.public_id)
    if loaded is None:
        raise KeyRefused("unknown")
    key, organization_suspended_at = loaded
    if not crypto.key_matches(parsed.full_key, key.key_hash) or key.environment != parsed.environment:
        raise KeyRefused("unknown")
    if organization_suspended_at is not None:
        raise KeyRefused("organization suspended")
    if not key.is_usable:
        raise KeyRefused(key.status)
    if key.allowed_ips and not ip_allowed(client_ip, key.allowed_ips):
        audit_record(action="api_key.ip_refused", actor=key, organization_id=key.organization_id, target=key,
                     metadata={"publicId": key.public_id})
        raise KeyRefused("ip not allowed")
    touch_last_used(key)
    return key


def ip_allowed(client_ip: str | None, ranges: list[str]) -> bool:
    if not client_ip:
        return False
    try:
        address = ipaddress.ip_address(client_ip)
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(network, strict=False) for network in ranges)


def touch_last_used(key: ApiKey) -> None:
    """Keep ``last_used_at`` current to the minute: at most one UPDATE a minute per key, never one per request."""
    now = timezone.now()
    if key.last_used_at is not None and now - key.last_used_at < LAST_USED_RESOLUTION:
        return
    stale = Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
    ApiKey.objects.filter(stale, pk=key.pk).update(last_used_at=now)
    key.last_used_at = now
