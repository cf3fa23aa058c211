"""Reading resource servers, and what ``/gateway/auth`` needs on every call.

The resource server is read by client id with one indexed query written as SQL: built with the ORM it cost more
than the rest of the decision (profiled on SQLite: about 1 ms against 0.1 ms), as ``portal.row_loader`` found for
the verifiers. With the request path's Redis its row is kept in each process by the credential cache
(``portal.credential_cache.verified_row``, dependency ``rs:<id>``), with the same guarantee as a key's: every save
or deletion of a server announces a change (``gateway.signals``), so a disabled server or a rotated secret is
refused by every worker at its next call; without Redis the row is read on every call. The row holds the secret's
keyed hash, never the secret, and the secret is compared with it in constant time on every call, cached or not.

An organization's slug is set when it is made and never changes, so each process remembers the slugs it has read
(a query and a database round trip less on every call: on a loaded machine that round trip was the largest part of
a call's time). The only way an id could name another organization is a deletion followed by a new organization
taking the same id (SQLite reuses the highest id); the portal deletes no organization, and a save or deletion of
one in this process forgets what was remembered, which covers the test suite's organizations made again with the
ids of rolled-back ones.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models.signals import post_delete, post_save

from accounts.models import Organization
from gateway import credentials
from gateway.models import ResourceServer
from portal.credential_cache import dependency, verified_row

SERVER_QUERY = (
    f"SELECT id, name, secret_hash, scopes, enabled FROM {ResourceServer._meta.db_table} "  # noqa: S608 (names from model metadata; values are bound)
    "WHERE client_id = %s"
)
SERVER_COLUMNS = ("id", "name", "secret_hash", "scopes", "enabled")
CACHE_KIND = "rs"  # the credential cache's dependency kind (and the name of its entries) for a resource server


def server_dependencies(row: dict[str, Any]) -> list[str]:
    """What a cached server row depends on: the server itself, by id (a change of any field announces it)."""
    return [dependency(CACHE_KIND, row["id"])]
SLUG_QUERY = f"SELECT slug FROM {Organization._meta.db_table} WHERE id = %s"  # noqa: S608 (as above)


@dataclass(frozen=True, slots=True)
class AuthenticatedServer:
    """What a call needs of the resource server that authenticated it (a model instance cost more to build than
    the secret's check)."""

    pk: int
    name: str
    client_id: str
    scopes: list[str]


def authenticate_resource_server(authorization: str | None) -> AuthenticatedServer | None:
    """The enabled resource server whose HTTP Basic credentials ``authorization`` holds, or None (malformed,
    unknown, wrong secret, disabled: one answer for all, so the reason is never told). The secret is compared
    as a keyed hash, in constant time."""
    pair = credentials.basic_credentials(authorization)
    if pair is None:
        return None
    client_id, secret = pair
    if len(client_id) > 40 or not client_id.startswith(credentials.CLIENT_ID_PREFIX):
        return None
    row, _cached = verified_row(CACHE_KIND, client_id, query=SERVER_QUERY, columns=SERVER_COLUMNS,
                                depends_on=server_dependencies)
    if row is None:
        return None
    secret_hash = row["secret_hash"]
    if not credentials.secret_matches(secret, secret_hash) or not row["enabled"]:
        return None
    scopes = row["scopes"]
    # SQLite hands JSON back as text; a list read from PostgreSQL may be a cached row's, shared: each call its own.
    scopes = json.loads(scopes) if isinstance(scopes, str) else list(scopes)
    return AuthenticatedServer(pk=row["id"], name=row["name"], client_id=client_id, scopes=scopes)


def resource_server_by_name(name: str) -> ResourceServer | None:
    return ResourceServer.objects.filter(name=name).first()


_slugs: dict[int, str] = {}
MAX_REMEMBERED_SLUGS = 100_000


def organization_slug(organization_id: int) -> str:
    """An organization's slug (``Portal-Organization``, introspection's ``org``)."""
    slug = _slugs.get(organization_id)
    if slug is not None:
        return slug
    with connection.cursor() as cursor:
        cursor.execute(SLUG_QUERY, [organization_id])
        row = cursor.fetchone()
    if row is None:
        return ""
    if len(_slugs) >= MAX_REMEMBERED_SLUGS:
        _slugs.clear()
    slug = str(row[0])
    _slugs[organization_id] = slug
    return slug


def _forget_slugs(sender: type, **kwargs: object) -> None:
    _slugs.clear()


post_save.connect(_forget_slugs, sender=Organization, dispatch_uid="gateway_forget_slugs_on_save")
post_delete.connect(_forget_slugs, sender=Organization, dispatch_uid="gateway_forget_slugs_on_delete")
