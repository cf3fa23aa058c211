"""Small helpers for the API's JSON shapes."""

from __future__ import annotations

from datetime import datetime


def iso(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with a ``Z``, as most APIs write it."""
    if value is None:
        return None
    return value.isoformat().replace("+00:00", "Z")
