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
