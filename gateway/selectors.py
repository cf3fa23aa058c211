"""Reading resource servers."""

from __future__ import annotations

import time

from accounts.models import Organization
from gateway import credentials
from gateway.models import ResourceServer


def authenticate_resource_server(authorization: str | None) -> ResourceServer | None:
    """The enabled resource server whose HTTP Basic credentials ``authorization`` holds, or None (malformed,
    unknown, wrong secret, disabled: one answer for all, so the reason is never told)."""
    pair = credentials.basic_credentials(authorization)
    if pair is None:
        return None
    client_id, secret = pair
    if len(client_id) > 40 or not client_id.startswith(credentials.CLIENT_ID_PREFIX):
        return None
    server = ResourceServer.objects.filter(client_id=client_id).first()
    if server is None or not credentials.secret_matches(secret, server.secret_hash) or not server.enabled:
        return None
    return server


def resource_server_by_name(name: str) -> ResourceServer | None:
    return ResourceServer.objects.filter(name=name).first()


_SLUGS: dict[int, tuple[str, float]] = {}
SLUG_SECONDS = 300.0


def organization_slug(organization_id: int) -> str:
    """An organization's slug, remembered by each process for a few minutes: a slug is set when the organization
    is made and never changes, and a suspension is checked by the verifiers on every call, not here."""
    now = time.monotonic()
    known = _SLUGS.get(organization_id)
    if known is not None and known[1] > now:
        return known[0]
    slug = Organization.objects.filter(pk=organization_id).values_list("slug", flat=True).first() or ""
    if len(_SLUGS) > 10_000:
        _SLUGS.clear()
    _SLUGS[organization_id] = (slug, now + SLUG_SECONDS)
    return slug
