"""Fills the key table with realistic rows for the verification benchmark (bulk inserts, no HTTP)."""

from __future__ import annotations

import os

from django.db import connection

from apikeys import crypto
from apikeys.models import ApiKey
from applications.models import Application


def fill_keys(total: int, batch: int = 20_000) -> None:
    """Grow the table to ``total`` keys (revoked fillers with real-looking ids and hashes)."""
    application = Application.objects.order_by("id").first()
    missing = total - ApiKey.objects.count()
    while missing > 0:
        size = min(batch, missing)
        rows = []
        for _ in range(size):
            public_id = crypto.base62_encode(int.from_bytes(os.urandom(8)), crypto.PUBLIC_ID_LENGTH)
            rows.append(ApiKey(organization_id=application.organization_id, application=application, name="filler",
                               public_id=public_id, prefix="dp", key_hash=os.urandom(32).hex(),
                               scopes=["apps:read"]))
        ApiKey.objects.bulk_create(rows, ignore_conflicts=True)
        missing = total - ApiKey.objects.count()
    with connection.cursor() as cursor:  # settle the table as a long-running database would be
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        cursor.execute("ANALYZE")


def fill_request_log(key: ApiKey, total: int, share: int = 100) -> None:
    """Grow the request log to ``total`` rows over the last 7 days, one row in ``share`` of them ``key``'s, the
    rest spread over 100 other keys. On PostgreSQL the rows are made by the server (INSERT ... SELECT over
    generate_series: no row crosses the wire); elsewhere in batches of ``executemany``."""
    from usage.models import RequestLog

    fill_keys(ApiKey.objects.count() + 100 - ApiKey.objects.filter(name="filler").count())
    others = list(ApiKey.objects.filter(name="filler").values_list("pk", flat=True)[:100])
    have = RequestLog.objects.count()
    missing = total - have
    if missing <= 0:
        return
    table = RequestLog._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Millions of rows load much faster into a table without its secondary indexes and foreign-key
            # triggers: the indexes are built again afterwards from their own definitions (as a restore does), and
            # every id the rows name exists.
            cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s AND indexname <> %s",
                           [table, f"{table}_pkey"])
            indexes = cursor.fetchall()
            for name, _definition in indexes:
                cursor.execute(f'DROP INDEX "{name}"')
            cursor.execute("SET session_replication_role = replica")
            cursor.execute(
                f"INSERT INTO {table} (request_id, created_at, organization_id, api_key_id, method, path, status,"  # noqa: S608
                " duration_ms, ip_address, user_agent) "
                "SELECT md5(i::text), now() - (i * interval '7 days' / %s::bigint), %s::bigint,"
                " CASE WHEN i %% %s::bigint = 0 THEN %s::bigint ELSE (%s::bigint[])[1 + i %% %s::bigint] END,"
                " 'GET', '/api/v1/hello', 200, 1.5, '127.0.0.1', 'bench' "
                "FROM generate_series(%s::bigint, %s::bigint) AS i",
                [total, key.organization_id, share, key.pk, others, len(others), have + 1, total])
            cursor.execute("SET session_replication_role = DEFAULT")
            for _name, definition in indexes:
                cursor.execute(definition)
            cursor.execute(f"VACUUM ANALYZE {table}")
            return
        from datetime import UTC, datetime, timedelta

        now, step = datetime.now(UTC), timedelta(days=7) / total
        for start in range(have + 1, total + 1, 20_000):
            rows = [(f"r{i}", (now - i * step).isoformat(" ")[:26], key.organization_id,
                     key.pk if i % share == 0 else others[i % len(others)], "GET", "/api/v1/hello", 200, 1.5,
                     "127.0.0.1", "bench") for i in range(start, min(total, start + 19_999) + 1)]
            cursor.executemany(
                f"INSERT INTO {table} (request_id, created_at, organization_id, api_key_id, method, path, status,"  # noqa: S608
                " duration_ms, ip_address, user_agent) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)", rows)
        cursor.execute("ANALYZE")
