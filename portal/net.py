"""The client's IP address, read the same way everywhere (audit log, rate limits, IP allow-lists)."""

from __future__ import annotations

from django.http import HttpRequest

from portal.conf import portal_settings


def client_ip(request: HttpRequest) -> str:
    """``REMOTE_ADDR``, or with N trusted proxies in front, the Nth address from the right of
    ``X-Forwarded-For``. Entries further left are written by the client and never trusted."""
    remote = request.META.get("REMOTE_ADDR", "") or ""
    proxies = portal_settings.TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(forwarded) < proxies:
        return remote
    return str(forwarded[-proxies])
