"""The portal's settings: ``settings.PORTAL`` over these defaults, reloaded when tests override it.

Read them as ``portal_settings.KEY_PREFIX`` (as DRF's ``api_settings`` and DOT's ``oauth2_settings``).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.signals import setting_changed

DEFAULTS: dict[str, Any] = {
    "KEY_PREFIX": "dp",
    "HASH_KEY": "",
    "ENCRYPTION_KEYS": [],
    "BASE_URL": "http://localhost:8000",
    "RATELIMITS_ENABLED": True,
    # Seconds a verified credential stays in each process's credential cache (portal.credential_cache); 0 turns
    # it off. Used only with a Redis shared by every process (REDIS_URL or REDIS_CLUSTER_URL).
    "CREDENTIAL_CACHE_SECONDS": 60,
    # Rates as "<count>/<period>" (s, m, h, d), checked at start-up.
    "API_READ_RATE": "100/m",
    "API_WRITE_RATE": "100/m",
    "CLIENT_AUTH_FAILURES_PER_CLIENT": "30/m",
    "CLIENT_AUTH_FAILURES_PER_IP": "60/m",
    "SIGN_IN_FAILURES_PER_EMAIL": "10/m",
    "SIGN_IN_FAILURES_PER_IP": "50/m",
    # Wrong user codes typed at /device (RFC 8628 section 5.1: the short code must not be guessable).
    "DEVICE_CODE_FAILURES_PER_USER": "10/m",
    "DEVICE_CODE_FAILURES_PER_IP": "50/m",
    # Number of reverse proxies in front of the portal whose X-Forwarded-For entries are trusted.
    "TRUSTED_PROXY_COUNT": 0,
    "INVITATION_TTL_DAYS": 7,
    # Staff need a second factor to use /admin/ (settings.py turns it on when debug is off).
    "ADMIN_REQUIRE_MFA": True,
    # A site's own scopes ({"orders:read": "Read orders"}) and presets ({"ORDERS": ["orders:read"]}).
    "SCOPES": {},
    "SCOPE_PRESETS": {},
    # API keys.
    "KEY_DEFAULT_EXPIRY_DAYS": 90,
    "KEY_MAX_EXPIRY_DAYS": 365,
    "KEY_ALLOW_NO_EXPIRY": True,
    "KEY_ROTATION_GRACE_HOURS": 24,
    "KEY_ROTATION_MAX_GRACE_HOURS": 168,
    # Leaked credentials (the leaks app): where GitHub's secret-scanning public keys are fetched, and how often one
    # client IP may call the public revocation endpoint.
    "SECRET_SCANNING_KEYS_URL": "https://api.github.com/meta/public_keys/secret_scanning",
    "CREDENTIAL_REVOKE_RATE": "10/m",
    # Webhooks (section 13). Seconds between the attempts of one delivery: 8 attempts in about 28 hours.
    "WEBHOOKS_ALLOW_PRIVATE": False,
    "WEBHOOK_RETRY_SCHEDULE": [5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600],
    "WEBHOOK_TIMEOUT_SECONDS": 10,
    "WEBHOOK_DISABLE_AFTER_DAYS": 5,
    "WEBHOOK_SECRET_OVERLAP_HOURS": 24,
    "WEBHOOK_ATTEMPTS_KEPT_DAYS": 30,
    # Key expiry notices (section 14), in days before the expiry.
    "EXPIRY_NOTICE_DAYS": [7, 1],
    # Usage counting and the request log (usage.recorder): on or off, how often each process writes its batch,
    # and whether a thread of each process does it (off in tests, which flush by hand).
    "USAGE_ENABLED": True,
    "USAGE_FLUSH_SECONDS": 1.0,
    "USAGE_BACKGROUND_FLUSH": True,
}


class PortalSettings:
    """``portal_settings.NAME``: ``settings.PORTAL["NAME"]`` or its default. The first read of a name stores it on the
    instance, so every later read is a plain attribute read (the request path reads several per request);
    ``reload`` (on ``setting_changed``) forgets them all."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name not in DEFAULTS:
            raise AttributeError(f"Unknown portal setting {name!r}")
        value = getattr(settings, "PORTAL", {}).get(name, DEFAULTS[name])
        setattr(self, name, value)
        return value

    def reload(self) -> None:
        vars(self).clear()


portal_settings = PortalSettings()


def _reload(*, setting: str, **kwargs: Any) -> None:
    if setting == "PORTAL":
        portal_settings.reload()


setting_changed.connect(_reload)
