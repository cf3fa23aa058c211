"""Model instances from rows of hand-written SQL, for the few hot paths that skip the ORM's query building."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from django.db import connection, models
from django.utils.dateparse import parse_datetime


def db_value(field: models.Field, value: Any) -> Any:
    """SQLite hands back JSON as text and datetimes without a zone (stored in UTC); psycopg hands back Python
    values with their zone."""
    if value is None:
        return None
    if isinstance(field, models.JSONField) and isinstance(value, str):
        return json.loads(value)
    if isinstance(field, models.DateTimeField):
        if isinstance(value, str):
            value = parse_datetime(value)
        if isinstance(value, datetime) and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
    if isinstance(field, models.BooleanField):
        return bool(value)
    return value


def model_from_row(model: type[models.Model], values: dict[str, Any]) -> models.Model:
    """An instance as the ORM would load it (``from_db``): fields not given are deferred, loaded on access,
    and a later ``save()`` writes only what was loaded."""
    fields = [f for f in model._meta.concrete_fields if f.attname in values]
    return model.from_db(connection.alias, [f.attname for f in fields],
                         [db_value(f, values[f.attname]) for f in fields])
