"""Recording which scope each API call used, and reading it back.

The scope an endpoint required is put on the request by ``portal.api.permissions.HasRequiredScopes`` once the
check passes (the endpoint's own scope: a key holding it through ``admin`` records the endpoint's scope, not
``admin``). ``usage.recorder`` keeps the latest time of each (credential, person, scope) in the same in-memory
buffer and under the same lock as the request counts, and hands the batch here on its flush, about once a
second: one upsert per kind of credential, whatever the number of requests. No query, no round trip per call.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone
from oauth2_provider.models import get_application_model

from apikeys.models import ApiKey
from security.models import ScopeUsage

# (organization id, api key pk or None, oauth client pk or None, user id (0: none), scope) -> Unix seconds
ScopeBatch = dict[tuple[int, int | None, int | None, int, str], float]

SHOWN_DAYS = 90  # the pages and the API show a scope's last use within this many days
NARROW_DAYS = 30  # "Narrow to what it used" keeps the scopes used within this many days
CHUNK = 300


def _moment(seconds: float) -> datetime:
    moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=seconds)
    return moment.replace(tzinfo=None) if connection.vendor == "sqlite" else moment


def _sql(credential: str, rows: int) -> str:
    table = connection.ops.quote_name(ScopeUsage._meta.db_table)
    values = ", ".join(["(%s, %s, %s, %s, %s, %s)"] * rows)
    conflict = "api_key_id, scope" if credential == "api_key_id" else "oauth_client_id, user_id, scope"
    return (f"INSERT INTO {table} (organization_id, api_key_id, oauth_client_id, user_id, scope, last_used_at) "  # noqa: S608
            f"VALUES {values} ON CONFLICT ({conflict}) WHERE {credential} IS NOT NULL DO UPDATE SET "
            f"last_used_at = CASE WHEN EXCLUDED.last_used_at > {table}.last_used_at "
            f"THEN EXCLUDED.last_used_at ELSE {table}.last_used_at END")


def store_scope_usage(batch: ScopeBatch) -> None:
    """Write a flush's scope uses; a credential deleted since its call is skipped (its rows went with it)."""
    if not batch:
        return
    key_pks = {k[1] for k in batch if k[1] is not None}
    client_pks = {k[2] for k in batch if k[2] is not None}
    keys = set(ApiKey.objects.filter(pk__in=key_pks).values_list("pk", flat=True)) if key_pks else set()
    clients = set(get_application_model().objects.filter(pk__in=client_pks).values_list("pk", flat=True)) \
        if client_pks else set()
    by_kind: dict[str, list[list]] = {"api_key_id": [], "oauth_client_id": []}
    for (organization_id, key_pk, client_pk, user_id, scope), seconds in batch.items():
        if key_pk is not None and key_pk in keys:
            by_kind["api_key_id"].append([organization_id, key_pk, None, 0, scope, _moment(seconds)])
        elif client_pk is not None and client_pk in clients:
            by_kind["oauth_client_id"].append([organization_id, None, client_pk, user_id or 0, scope,
                                               _moment(seconds)])
    with transaction.atomic(), connection.cursor() as cursor:
        for column, rows in by_kind.items():
            for offset in range(0, len(rows), CHUNK):
                chunk = rows[offset:offset + CHUNK]
                cursor.execute(_sql(column, len(chunk)), [value for row in chunk for value in row])


def _pending(*, key_pk: int | None = None, client_pk: int | None = None, user_id: int | None = None
             ) -> dict[str, datetime]:
    """This process's scope uses not yet flushed (``usage.recorder``), for one credential."""
    from usage.recorder import recorder

    found: dict[str, datetime] = {}
    for (_org, k, c, u, scope), seconds in recorder.pending_scopes().items():
        if (key_pk is not None and k == key_pk) or (client_pk is not None and c == client_pk
                                                     and (user_id is None or u == user_id)):
            moment = datetime.fromtimestamp(seconds, tz=UTC)
            if scope not in found or moment > found[scope]:
                found[scope] = moment
    return found


def _merged(stored: dict[str, datetime], pending: dict[str, datetime]) -> dict[str, datetime]:
    for scope, moment in pending.items():
        if scope not in stored or moment > stored[scope]:
            stored[scope] = moment
    return stored


def key_scope_usage(key: ApiKey, *, days: int = SHOWN_DAYS) -> list[dict]:
    """Each scope the key holds, with when it was last used within ``days`` (or None)."""
    since = timezone.now() - timedelta(days=days)
    used = _merged(dict(ScopeUsage.objects.filter(api_key=key, last_used_at__gte=since)
                        .values_list("scope", "last_used_at")), _pending(key_pk=key.pk))
    # ``admin`` is never recorded itself (a call records its endpoint's scope): it was last used when any was.
    latest = max(used.values(), default=None)
    return [{"scope": scope, "last_used_at": latest if scope == "admin" else used.get(scope)} for scope in key.scopes]


def client_scope_usage(client, *, user_id: int | None = None, days: int = SHOWN_DAYS) -> list[dict]:
    """Each scope an OAuth client is allowed, with its latest use by any token of it (or one person's)."""
    since = timezone.now() - timedelta(days=days)
    rows = ScopeUsage.objects.filter(oauth_client=client, last_used_at__gte=since)
    if user_id is not None:
        rows = rows.filter(user_id=user_id)
    used: dict[str, datetime] = {}
    for scope, moment in rows.values_list("scope", "last_used_at"):
        if scope not in used or moment > used[scope]:
            used[scope] = moment
    used = _merged(used, _pending(client_pk=client.pk, user_id=user_id))
    return [{"scope": scope, "last_used_at": used.get(scope)} for scope in client.allowed_scopes]


def user_client_scope_uses(user_id: int, client_pks: list[int], *, days: int = SHOWN_DAYS) -> dict[int, dict]:
    """``{client pk: {scope: last used}}`` for one person's tokens of these clients (the authorized-apps page)."""
    since = timezone.now() - timedelta(days=days)
    out: dict[int, dict] = {}
    for client_pk, scope, moment in ScopeUsage.objects.filter(
            oauth_client_id__in=client_pks, user_id=user_id, last_used_at__gte=since,
    ).values_list("oauth_client_id", "scope", "last_used_at"):
        out.setdefault(client_pk, {})[scope] = moment
    for client_pk in client_pks:
        pending = _pending(client_pk=client_pk, user_id=user_id)
        if pending:
            out[client_pk] = _merged(out.get(client_pk, {}), pending)
    return out


def scopes_used_recently(key: ApiKey, *, days: int = NARROW_DAYS) -> list[str]:
    """The key's scopes used within ``days``, in the key's own order: what narrowing keeps. ``admin`` is never
    recorded (calls record the endpoint's scope), so a key holding ``admin`` narrows to what it really used."""
    since = timezone.now() - timedelta(days=days)
    used = set(ScopeUsage.objects.filter(api_key=key, last_used_at__gte=since).values_list("scope", flat=True))
    used |= set(_pending(key_pk=key.pk))
    held = set(key.scopes)
    if "admin" in held:
        from portal import scopes as scope_registry

        return [s for s in scope_registry.registry() if s in used]
    return [s for s in key.scopes if s in used]
