"""Rows of the few hand-written queries on the request path, read by column name, and model instances made from
them with the ORM's own ``Model.from_db`` (see ``portal.requestpath`` for why those queries are hand-written)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from django.db import connection, models
from django.utils.dateparse import parse_datetime


def fetch_row(sql: str, params: list[Any], columns: Iterable[str]) -> dict[str, Any] | None:
    """The first row of ``sql`` as ``{column: value}``, ``columns`` naming its select list in order."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return None if row is None else dict(zip(columns, row, strict=True))


def db_value(field: models.Field, value: Any) -> Any:
    """``value`` as the ORM would load it into ``field``. SQLite hands back JSON as text and datetimes without a
    zone (stored in UTC), and a cached row (JSON) has datetimes as ISO text; psycopg hands back Python values."""
    if value is None:
        return None
    if isinstance(field, models.JSONField):
        return json.loads(value) if isinstance(value, str) else value
    if isinstance(field, models.DateTimeField):
        if isinstance(value, str):
            value = parse_datetime(value)
        return value.replace(tzinfo=UTC) if isinstance(value, datetime) and value.tzinfo is None else value
    if isinstance(field, models.BooleanField):
        return bool(value)
    return value


def model_from_row(model: type[models.Model], row: dict[str, Any]) -> models.Model:
    """An instance as the ORM would load it: the fields named in ``row`` (by attname) are set, the others are
    deferred (loaded on access), and a later ``save()`` writes only what was loaded."""
    fields = [f for f in model._meta.concrete_fields if f.attname in row]
    return model.from_db(connection.alias, [f.attname for f in fields], [db_value(f, row[f.attname]) for f in fields])
