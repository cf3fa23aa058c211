"""The audit log as CSV: one header row, then one row per event, written as the rows are read.

Spreadsheets run a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and some a tab or carriage return first)
as a formula, and labels in the log are typed by people (a key's name, an e-mail address), so such a cell is
prefixed with ``'`` (OWASP's advice on CSV injection): the text reads the same and never runs.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import UTC

from django.db.models import QuerySet

from audit.models import AuditEvent

HEADER = ("time_utc", "actor_type", "actor_id", "actor", "action", "target_type", "target_id", "target",
          "ip_address", "user_agent", "metadata")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CHUNK_SIZE = 2000


class _Line:
    """What ``csv.writer`` writes to: each row comes back as the string it wrote."""

    def write(self, text: str) -> str:
        return text


def spreadsheet_safe(value: str) -> str:
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


def _row(event: AuditEvent) -> list[str]:
    cells = [
        event.created_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        event.actor_type, event.actor_id, event.actor_label, event.action, event.target_type, event.target_id,
        event.target_label, event.ip_address or "", event.user_agent,
        json.dumps(event.metadata, sort_keys=True, ensure_ascii=False) if event.metadata else "",
    ]
    return [spreadsheet_safe(cell) for cell in cells]


def audit_csv_rows(events: QuerySet[AuditEvent]) -> Iterator[str]:
    """The header, then the events in ``events``' order, read in chunks so a long log never sits in memory."""
    writer = csv.writer(_Line())
    yield writer.writerow(HEADER)
    for event in events.iterator(chunk_size=CHUNK_SIZE):
        yield writer.writerow(_row(event))
