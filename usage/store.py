"""Where batches of counts and log rows go: the database (one multi-row upsert or insert per batch) or, with the
request path's Redis (``REDIS_URL`` or ``REDIS_CLUSTER_URL``), Redis for the counts (one pipelined round trip per
batch), which ``usage.services.usage_rollup`` moves into the database.

Why Redis for counts when it is there: every worker of every host writes the same few rows (the current
minute, hour and day of a busy key), so direct upserts from each worker would queue on those rows' locks;
HINCRBY never waits. The log is only ever inserted, so its batches go to the database in either case.

Redis layout (all under ``portal:{usage}:``): a hash ``m:<minute epoch>`` whose fields
``<organization>:<application>:<k|c><credential pk>:<outcome>`` count requests; the set ``pending`` names the
minutes that have counts waiting; the set ``processing`` names batches the roll-up has taken but not finished.
"""

from __future__ import annotations

import functools
import ipaddress
import logging
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connection, transaction
from oauth2_provider.models import get_application_model

from apikeys.models import ApiKey
from portal.request_redis import Client, request_redis
from usage.models import BUCKET_SECONDS, Granularity, RequestLog, UsageCount

logger = logging.getLogger(__name__)

OUTCOMES = ("success", "client_errors", "rate_limited", "server_errors")
SUCCESS, CLIENT_ERROR, RATE_LIMITED, SERVER_ERROR = range(4)

# (organization id, application id, api key pk or None, oauth client pk or None, minute as Unix seconds)
Bucket = tuple[int, int, int | None, int | None, int]
# (granularity, start as Unix seconds, organization id, application id, api key pk, oauth client pk)
Row = tuple[str, int, int, int, int | None, int | None]

REDIS_PREFIX = "portal:{usage}:"  # one hash tag: the MULTIs below touch several of these keys
PENDING = REDIS_PREFIX + "pending"
PROCESSING = REDIS_PREFIX + "processing"
# A safety net only: the roll-up runs every minute. Counts Redis keeps longer than this were never rolled up.
REDIS_TTL_SECONDS = 7 * 86400
CHUNK = 400  # rows per statement: well under SQLite's limit on bound parameters


def outcome_of(status: int) -> int:
    if status >= 500:
        return SERVER_ERROR
    if status == 429:
        return RATE_LIMITED
    if status >= 400:
        return CLIENT_ERROR
    return SUCCESS


def minute_hash(minute: int) -> str:
    return f"{REDIS_PREFIX}m:{minute}"


def redis_client() -> Client | None:
    """The request path's Redis client (``portal.request_redis``), or None without one: usage counts share it
    with the rate-limit counters, a Redis Cluster's included (every key below has the hash tag ``{usage}``, so each
    MULTI runs on one shard)."""
    handle = request_redis()
    return handle.client if handle is not None else None


# Counts ---------------------------------------------------------------------------------------------------


def roll_up(counts: dict[Bucket, list[int]]) -> dict[Row, list[int]]:
    """Each minute's counts added to its minute, hour and day buckets."""
    rows: dict[Row, list[int]] = {}
    for (organization_id, application_id, key_pk, client_pk, minute), values in counts.items():
        for granularity in Granularity:
            seconds = BUCKET_SECONDS[granularity]
            row = (granularity.value, minute - minute % seconds, organization_id, application_id, key_pk, client_pk)
            total = rows.get(row)
            if total is None:
                rows[row] = list(values)
            else:
                for index, value in enumerate(values):
                    total[index] += value
    return rows


def store_counts(counts: dict[Bucket, list[int]]) -> None:
    """Redis when configured and answering, else the database: a batch is never dropped because Redis is down."""
    client = redis_client()
    if client is not None:
        try:
            push_counts_to_redis(client, counts)
            return
        except Exception as exc:  # redis-py's errors: write to the database instead
            logger.warning("Usage counts go to the database: Redis failed (%s)", type(exc).__name__)
    write_counts(roll_up(counts))


def push_counts_to_redis(client, counts: dict[Bucket, list[int]]) -> None:
    """One MULTI/EXEC round trip: the whole batch or nothing, so the roll-up never sees half of it."""
    pipe = client.pipeline(transaction=True)
    minutes = set()
    for (organization_id, application_id, key_pk, client_pk, minute), values in counts.items():
        name = minute_hash(minute)
        credential = f"k{key_pk}" if key_pk is not None else f"c{client_pk}"
        for index, value in enumerate(values):
            if value:
                pipe.hincrby(name, f"{organization_id}:{application_id}:{credential}:{index}", value)
        minutes.add(minute)
    for minute in minutes:
        pipe.expire(minute_hash(minute), REDIS_TTL_SECONDS)
    pipe.sadd(PENDING, *minutes)
    pipe.execute()


def counts_from_redis_hash(minute: int, fields: dict[bytes, bytes]) -> dict[Bucket, list[int]]:
    counts: dict[Bucket, list[int]] = {}
    for field, value in fields.items():
        organization, application, credential, index = field.decode().split(":")
        pk = int(credential[1:])
        bucket = (int(organization), int(application), pk if credential[0] == "k" else None,
                  pk if credential[0] == "c" else None, minute)
        counts.setdefault(bucket, [0, 0, 0, 0])[int(index)] += int(value)
    return counts


def _existing_credentials(key_pks: Iterable[int], client_pks: Iterable[int]) -> tuple[set[int], set[int]]:
    """Credentials still in the database: one deleted since its request was counted has taken its rows with
    it, and a row naming it would fail the whole batch on its foreign key."""
    keys = set(ApiKey.objects.filter(pk__in=set(key_pks)).values_list("pk", flat=True)) if key_pks else set()
    clients = set(get_application_model().objects.filter(pk__in=set(client_pks)).values_list("pk", flat=True)) \
        if client_pks else set()
    return keys, clients


def _upsert_sql(credential_column: str, rows: int) -> str:
    table = connection.ops.quote_name(UsageCount._meta.db_table)
    start = connection.ops.quote_name("start")
    columns = f"granularity, {start}, organization_id, application_id, api_key_id, oauth_client_id, " + \
        ", ".join(OUTCOMES)
    values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"] * rows)
    updates = ", ".join(f"{name} = {table}.{name} + EXCLUDED.{name}" for name in OUTCOMES)
    return (f"INSERT INTO {table} ({columns}) VALUES {values} "  # noqa: S608 (names from model metadata)
            f"ON CONFLICT ({credential_column}, granularity, {start}) WHERE {credential_column} IS NOT NULL "
            f"DO UPDATE SET {updates}")


def write_counts(rows: dict[Row, list[int]]) -> None:
    """Add ``rows`` to the buckets in the database: one upsert per kind of credential (and per 400 rows), in
    one transaction, whatever the number of requests they count."""
    if not rows:
        return
    keys, clients = _existing_credentials({r[4] for r in rows if r[4] is not None},
                                          {r[5] for r in rows if r[5] is not None})
    moment = _datetime_param()
    by_kind: dict[str, list[list[Any]]] = {"api_key_id": [], "oauth_client_id": []}
    for (granularity, start, organization_id, application_id, key_pk, client_pk), values in rows.items():
        if (key_pk is not None and key_pk not in keys) or (client_pk is not None and client_pk not in clients):
            continue
        params = [granularity, moment(start), organization_id, application_id, key_pk,
                  client_pk, *values]
        by_kind["api_key_id" if key_pk is not None else "oauth_client_id"].append(params)
    with transaction.atomic(), connection.cursor() as cursor:
        for column, rows_of_kind in by_kind.items():
            for offset in range(0, len(rows_of_kind), CHUNK):
                chunk = rows_of_kind[offset:offset + CHUNK]
                cursor.execute(_upsert_sql(column, len(chunk)), [value for row in chunk for value in row])


# The request log ------------------------------------------------------------------------------------------

# (request id, started at (Unix seconds), organization id, api key pk, oauth client pk, method, path, status,
#  duration in ms, client IP, user agent)
LOG_COLUMNS = ("request_id", "created_at", "organization_id", "api_key_id", "oauth_client_id", "method", "path",
               "status", "duration_ms", "ip_address", "user_agent", "resource_server")


@functools.lru_cache(maxsize=4096)
def _ip_or_none(value: str | None) -> str | None:
    # The IP comes from REMOTE_ADDR or a trusted proxy's X-Forwarded-For entry; anything that is not an address
    # is stored as unknown rather than failing the batch on the column's type. Few distinct values: cached.
    if not value:
        return None
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


_EPOCH_UTC = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_NAIVE = datetime(1970, 1, 1)


def _datetime_param() -> Callable[[float], datetime]:
    """Unix seconds to what this backend stores for an aware UTC time, made directly: Django's own adapter costs
    more than inserting the row on SQLite (a settings lookup and a zone conversion per value). SQLite keeps UTC
    without a zone (as Django writes it), PostgreSQL takes the aware value."""
    epoch = _EPOCH_NAIVE if connection.vendor == "sqlite" else _EPOCH_UTC
    return lambda seconds: epoch + timedelta(seconds=seconds)


def write_logs(entries: list[tuple]) -> None:
    """One statement for the whole batch: COPY on PostgreSQL, ``executemany`` (sqlite3's loop in C) elsewhere."""
    if not entries:
        return
    keys, clients = _existing_credentials({e[3] for e in entries if e[3] is not None},
                                          {e[4] for e in entries if e[4] is not None})
    moment = _datetime_param()
    rows = [
        (request_id, moment(started_at), organization_id, key_pk, client_pk, method, path, status,
         duration_ms, _ip_or_none(ip), user_agent, resource_server)
        for (request_id, started_at, organization_id, key_pk, client_pk, method, path, status, duration_ms, ip,
             user_agent, resource_server) in entries
        if (key_pk is None or key_pk in keys) and (client_pk is None or client_pk in clients)
    ]
    table = connection.ops.quote_name(RequestLog._meta.db_table)
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # COPY: the rows stream in one statement, several times faster than as many INSERTs.
            with cursor.cursor.copy(f"COPY {table} ({', '.join(LOG_COLUMNS)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        cursor.executemany(f"INSERT INTO {table} ({', '.join(LOG_COLUMNS)}) "  # noqa: S608 (names from the model)
                           f"VALUES ({', '.join(['%s'] * len(LOG_COLUMNS))})", rows)
