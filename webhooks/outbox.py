"""The request's side of the webhook outbox: what recording an event costs the request that causes it.

``record_event`` listens to ``portal.events``. In the publisher's transaction it asks one question, "does an
enabled endpoint of this organization take this type?", and only if one does, it builds ``data`` and writes one
``WebhookEvent`` row. On commit it asks for the sweep (``portal.outboxes.kick``: many events, one message); the
worker then makes a delivery per endpoint (``services.event_fan_out``) and sends them. A change that rolls
back takes its row with it, and nothing was asked of the worker.

Both statements are SQL written once here, not built by the ORM, because this runs inside the request. Measured
in-process on the 2 shared cores of the benchmark machine (SQLite; the figures move with the machine, the
proportions do not): the ORM's query for the check took about 820 us against 60 us for the same SELECT
through a cursor (a ``SELECT 1`` costs 37), and its ``create()`` of the row about 430 us against about 60 us.
The check is a query and not a cache entry: the Redis cache's ``get`` took 380 us here, more than the query it
would save, and the in-process cache of a server without Redis is not shared by its workers (an endpoint
registered through one would stay unknown to the others). Values go through the model fields'
``get_db_prep_save``, so each database gets them as the ORM would give them.
"""

from __future__ import annotations

import functools
from typing import Any

from django.db import connection, models, transaction
from django.db.models.options import Options

from portal import outboxes
from portal.events import Event
from portal.row_loader import db_value
from webhooks import signing
from webhooks.models import WebhookEndpoint, WebhookEvent

_EVENT_COLUMNS = ("event_id", "organization_id", "type", "data", "created_at")


def _column(meta: Options[Any], name: str) -> tuple[models.Field[Any, Any], str]:
    """A concrete field of the model and its column (only relations without a column of their own lack one)."""
    field = meta.get_field(name)
    assert isinstance(field, models.Field) and field.column is not None  # every name below is a concrete field
    return field, field.column


@functools.cache
def _statements() -> tuple[str, str, list[Any]]:
    """The two statements, made once from the models' own table and column names (no input goes into them)."""
    quote = connection.ops.quote_name
    endpoints = WebhookEndpoint._meta
    table, types, organization, enabled = (quote(name) for name in (
        endpoints.db_table, *(_column(endpoints, f)[1] for f in ("event_types", "organization", "enabled"))))
    wanted = f"SELECT {types} FROM {table} WHERE {organization} = %s AND {enabled} = %s"  # noqa: S608 (names)
    events = WebhookEvent._meta
    fields_and_columns = [_column(events, name) for name in _EVENT_COLUMNS]
    fields = [field for field, _column_name in fields_and_columns]
    columns = ", ".join(quote(column) for _field, column in fields_and_columns)
    values = ", ".join(["%s"] * len(fields))
    insert = f"INSERT INTO {quote(events.db_table)} ({columns}) VALUES ({values})"  # noqa: S608 (names)
    return wanted, insert, fields


def organization_wants(organization_id: int, event_type: str) -> bool:
    """Whether an enabled endpoint of the organization takes ``event_type``: one indexed query, no row built."""
    wanted, _insert, _fields = _statements()
    event_types = WebhookEndpoint._meta.get_field("event_types")
    with connection.cursor() as cursor:
        cursor.execute(wanted, [organization_id, True])
        for (types,) in cursor.fetchall():
            types = db_value(event_types, types)  # SQLite hands JSON back as text
            if "*" in types or event_type in types:
                return True
    return False


def record_event(sender: str, event: Event, **kwargs: Any) -> None:
    """``portal.events`` listener: the event's one row, in the publisher's transaction, if anyone wants it."""
    if not organization_wants(event.organization_id, event.type):
        return
    _wanted, insert, fields = _statements()
    values = (signing.new_event_id(), event.organization_id, event.type, event.data, event.occurred_at)
    params = [field.get_db_prep_save(value, connection) for field, value in zip(fields, values, strict=True)]
    with connection.cursor() as cursor:
        cursor.execute(insert, params)
    transaction.on_commit(kick_sweep)


def kick_sweep() -> None:
    """New rows are waiting: ask for the sweep (``deliver_due``), which fans them out and hands them to the
    worker. One message for a burst of events (``portal.outboxes.kick``)."""
    outboxes.kick("webhooks.tasks.deliver_due")
