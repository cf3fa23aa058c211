"""Rows of the few hand-written queries on the request path, read by column name, and model instances made from
them with the ORM's own ``Model.from_db`` (see ``portal.credential_cache`` for why those queries are hand-written)."""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any, TypeVar

from django.db import DEFAULT_DB_ALIAS, connection, models
from django.db.models.base import ModelState
from django.utils.dateparse import parse_datetime

M = TypeVar("M", bound=models.Model)


def fetch_row(sql: str, params: list[Any], columns: Iterable[str]) -> dict[str, Any] | None:
    """The first row of ``sql`` as ``{column: value}``, ``columns`` naming its select list in order."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return None if row is None else dict(zip(columns, row, strict=True))


def _json(value: Any) -> Any:
    if isinstance(value, str):
        return json.loads(value)
    # A cached row is shared by every request that uses it: each instance gets its own list or dict.
    return copy.deepcopy(value) if isinstance(value, list | dict) else value


def _datetime(value: Any) -> Any:
    if isinstance(value, str):
        value = parse_datetime(value)
    return value.replace(tzinfo=UTC) if isinstance(value, datetime) and value.tzinfo is None else value


def _converter(field: models.Field[Any, Any]) -> Callable[[Any], Any] | None:
    """How a column's value becomes the field's (None: as it is). SQLite hands back JSON as text and datetimes
    without a zone (stored in UTC), and a cached row (JSON) has datetimes as ISO text; psycopg hands back Python
    values."""
    if isinstance(field, models.JSONField):
        return _json
    if isinstance(field, models.DateTimeField):
        return _datetime
    if isinstance(field, models.BooleanField):
        return bool
    return None


def db_value(field: models.Field[Any, Any], value: Any) -> Any:
    """``value`` as the ORM would load it into ``field``."""
    convert = _converter(field)
    return value if value is None or convert is None else convert(value)


@functools.cache
def _loader(model: type[models.Model], attnames: tuple[str, ...]) -> tuple[list[str], list[tuple[str, Any]]]:
    """The fields of ``model`` named in ``attnames``, in the model's order, each with its converter: worked out
    once per model and row shape, since every request that authenticates builds one or two instances."""
    fields = [f for f in model._meta.concrete_fields if f.attname in attnames]
    return [f.attname for f in fields], [(f.attname, _converter(f)) for f in fields]


def private_copy(instance: M) -> M:
    """A request's own copy of an instance that several requests share (what ``verified_row``'s ``build`` made):
    its own field values, its own JSON values and no related object loaded, so nothing one request does to it
    reaches another. Fields left deferred stay deferred. A tenth of the instructions of building it again from its
    row (``copy.copy`` goes through pickling's protocol and costs more than building it)."""
    model = type(instance)
    clone = model.__new__(model)
    values = clone.__dict__
    values.update(instance.__dict__)
    # Its own ``Model._state`` (documented: ``db`` and ``adding``), so no related object loaded is shared.
    state = values["_state"] = ModelState()
    state.db, state.adding = instance._state.db, False
    for name in _json_attnames(type(instance)):
        value = values.get(name)
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            values[name] = list(value)  # scopes, IP ranges: a list of strings needs no deeper copy
        elif isinstance(value, list | dict):
            values[name] = copy.deepcopy(value)
    return clone


@functools.cache
def _json_attnames(model: type[models.Model]) -> tuple[str, ...]:
    return tuple(f.attname for f in model._meta.concrete_fields if isinstance(f, models.JSONField))


def model_from_row(model: type[M], row: dict[str, Any]) -> M:
    """An instance as the ORM would load it: the fields named in ``row`` (by attname) are set, the others are
    deferred (loaded on access), and a later ``save()`` writes only what was loaded."""
    names, converters = _loader(model, tuple(row))
    values = []
    for name, convert in converters:
        value = row[name]
        values.append(value if value is None or convert is None else convert(value))
    return model.from_db(DEFAULT_DB_ALIAS, names, values)  # the alias fetch_row reads from
