"""Reads of leak reports: always for credentials the caller already holds (the page's own organization)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import QuerySet

from leaks.models import LeakReport


def leak_reports_for_keys(keys: Iterable[Any]) -> QuerySet[LeakReport]:
    """The leak reports of these API keys (already read through their organization), in one query."""
    return LeakReport.objects.filter(api_key_id__in=[key.pk for key in keys]).select_related("api_key")


def leak_reports_for_client(client: Any) -> QuerySet[LeakReport]:
    """The leak reports of an OAuth client's tokens."""
    return LeakReport.objects.filter(oauth_client=client)
