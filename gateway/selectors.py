"""Reading resource servers, and what ``/gateway/auth`` needs on every call.

The two reads of every call (the resource server by client id, the organization's slug) are one indexed query
each, written as SQL: built with the ORM they cost more than the rest of the decision together (profiled on
SQLite: about 1 ms each against 0.1 ms), as ``portal.requestpath`` found for the verifiers. Neither is cached in
the process: a disabled server or rotated secret must be refused by every worker at the next call, and an
organization id can name another organization after a deletion (SQLite reuses the highest id).
"""

from __future__ import annotations

from django.db import connection

from accounts.models import Organization
from gateway import credentials
from gateway.models import ResourceServer

SERVER_QUERY = (
    f"SELECT id, name, secret_hash, scopes, enabled FROM {ResourceServer._meta.db_table} "  # noqa: S608 (names from model metadata; values are bound)
    "WHERE client_id = %s"
)
SLUG_QUERY = f"SELECT slug FROM {Organization._meta.db_table} WHERE id = %s"  # noqa: S608 (as above)


def authenticate_resource_server(authorization: str | None) -> ResourceServer | None:
    """The enabled resource server whose HTTP Basic credentials ``authorization`` holds, or None (malformed,
    unknown, wrong secret, disabled: one answer for all, so the reason is never told). The secret is compared
    as a keyed hash, in constant time."""
    pair = credentials.basic_credentials(authorization)
    if pair is None:
        return None
    client_id, secret = pair
    if len(client_id) > 40 or not client_id.startswith(credentials.CLIENT_ID_PREFIX):
        return None
    with connection.cursor() as cursor:
        cursor.execute(SERVER_QUERY, [client_id])
        row = cursor.fetchone()
    if row is None:
        return None
    pk, name, secret_hash, scopes, enabled = row
    if not credentials.secret_matches(secret, secret_hash) or not enabled:
        return None
    scopes_field = ResourceServer._meta.get_field("scopes")
    scopes = scopes_field.from_db_value(scopes, None, connection) if isinstance(scopes, str) else scopes
    return ResourceServer(pk=pk, name=name, client_id=client_id, secret_hash=secret_hash, scopes=scopes,
                          enabled=bool(enabled))


def resource_server_by_name(name: str) -> ResourceServer | None:
    return ResourceServer.objects.filter(name=name).first()


def organization_slug(organization_id: int) -> str:
    """An organization's slug (``Portal-Organization``, introspection's ``org``)."""
    with connection.cursor() as cursor:
        cursor.execute(SLUG_QUERY, [organization_id])
        row = cursor.fetchone()
    return row[0] if row is not None else ""
