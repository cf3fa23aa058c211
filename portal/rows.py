"""Model instances from rows of hand-written SQL, for the few hot paths that skip the ORM's query building."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from typing import Any

from django.db import connection, models
from django.db.models.base import ModelState
from django.utils.dateparse import parse_datetime


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _datetime(value: Any) -> datetime | None:
    if isinstance(value, str):
        value = parse_datetime(value)
    if isinstance(value, datetime) and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


def _as_is(value: Any) -> Any:
    return value


def converter(field: models.Field) -> Callable[[Any], Any]:
    """SQLite hands back JSON as text, datetimes without a zone (stored in UTC) and booleans as 0/1; psycopg
    hands back Python values. The converter makes both look like what the ORM would load."""
    if isinstance(field, models.JSONField):
        return _json
    if isinstance(field, models.DateTimeField):
        return _datetime
    if isinstance(field, models.BooleanField):
        return bool
    return _as_is


@cache
def _driver_sql(vendor: str, sql: str) -> str:
    # Django writes parameters as %s for every backend; sqlite3 wants ?. Converted once per query text.
    return sql.replace("%s", "?") if vendor == "sqlite" else sql


def fetch_one(sql: str, params: list[Any]) -> tuple | None:
    """The first row of a hot hand-written query.

    Through the driver's own cursor: Django's cursor wrappers cost more than the query itself on SQLite (27 µs
    against 10 µs, bench/api_bench.py). Django's error wrapping is kept (a database outage is still a
    ``django.db.OperationalError``), and while Django records queries (tests, debug) the query goes through its
    cursor, so that it is counted like any other."""
    if connection.queries_logged:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()
    connection.ensure_connection()
    with connection.wrap_database_errors:
        return connection.connection.execute(_driver_sql(connection.vendor, sql), params).fetchone()


def db_value(field: models.Field, value: Any) -> Any:
    return None if value is None else converter(field)(value)


@cache
def _plan(model: type[models.Model], attnames: tuple[str, ...]) -> tuple[list[str], list[int], list[Callable]]:
    """For these columns: the model's field order (as ``from_db`` wants it), where each value sits in the row,
    and how to convert it. Computed once per query shape."""
    fields = [f for f in model._meta.concrete_fields if f.attname in attnames]
    return ([f.attname for f in fields], [attnames.index(f.attname) for f in fields],
            [converter(f) for f in fields])


def model_from_row(model: type[models.Model], attnames: tuple[str, ...], row: tuple | list) -> models.Model:
    """An instance as the ORM would load it (``from_db``): fields not given are deferred, loaded on access,
    and a later ``save()`` writes only what was loaded.

    Built as ``Model.from_db`` leaves it (values in ``__dict__``, a ``_state`` of a saved row) without running
    ``Model.__init__``, whose per-field work costs three times as much on the hot path. ``__init__`` would
    also send ``pre_init``/``post_init``, which no model read here has receivers for."""
    names, positions, converters = _plan(model, attnames)
    instance = model.__new__(model)
    state = instance._state = ModelState()
    state.adding, state.db = False, connection.alias
    values = instance.__dict__
    for name, position, convert in zip(names, positions, converters, strict=True):
        value = row[position]
        values[name] = None if value is None else convert(value)
    return instance
