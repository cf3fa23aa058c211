"""Reading resource servers."""

from __future__ import annotations

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



def organization_slug(organization_id: int) -> str:
    """An organization's slug: one indexed query. Not remembered by the process: an id can name another
    organization after a deletion (SQLite reuses the highest id), and a wrong ``Portal-Organization`` is worse
    than a query."""
    return Organization.objects.filter(pk=organization_id).values_list("slug", flat=True).first() or ""
