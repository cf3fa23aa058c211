"""Checking a presented API key: the hot path of every API request made with a key."""

from __future__ import annotations

import ipaddress
import logging
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from apikeys import crypto
from apikeys.models import ApiKey
from audit.services import audit_record
from portal.conf import portal_settings

logger = logging.getLogger(__name__)

LAST_USED_RESOLUTION = timedelta(minutes=1)


class KeyRefused(Exception):
    """The key cannot be used. The reason goes to logs and the audit log, never to the caller."""

    def __init__(self, reason: str, key: ApiKey | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.key = key


def verify_api_key(value: str, *, client_ip: str | None) -> ApiKey:
    """The usable key for ``value``, or ``KeyRefused``.

    Format and checksum are checked before any query; then one indexed query by public id (with the
    organization joined), a constant-time HMAC comparison, and the key's own rules. Nothing is cached,
    so a revocation, rotation or suspension holds on every worker at the next request.
    """
    parsed = crypto.parse_key(value, prefix=portal_settings.KEY_PREFIX)
    if parsed is None:
        raise KeyRefused("malformed")
    key = (
        ApiKey.objects.select_related("organization", "application")
        .filter(public_id=parsed.public_id)
        .first()
    )
    if key is None or not crypto.key_matches(parsed.full_key, key.key_hash) or key.environment != parsed.environment:
        raise KeyRefused("unknown")
    if key.organization.suspended_at is not None:
        raise KeyRefused("organization suspended", key)
    if not key.is_usable:
        raise KeyRefused(key.status, key)
    if key.allowed_ips and not ip_allowed(client_ip, key.allowed_ips):
        audit_record(action="api_key.ip_refused", actor=key, organization=key.organization, target=key,
                     metadata={"publicId": key.public_id})
        raise KeyRefused("ip not allowed", key)
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
