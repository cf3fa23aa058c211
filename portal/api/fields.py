"""Small helpers for the API's JSON shapes."""

from __future__ import annotations

from datetime import datetime
from typing import overload

from rest_framework import serializers


@overload
def iso(value: datetime) -> str: ...
@overload
def iso(value: None) -> None: ...
@overload
def iso(value: datetime | None) -> str | None: ...
def iso(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with a ``Z``, as most APIs write it."""
    if value is None:
        return None
    return value.isoformat().replace("+00:00", "Z")


class IsoDateTimeField(serializers.DateTimeField):
    """An output date-time written by ``iso()``: the same text in every response, whatever time zone is active."""

    def to_representation(self, value: datetime) -> str:
        # Never None here: a serializer writes a None attribute as null without calling its field.
        return iso(value)


class ScopeNameField(serializers.CharField):
    """A scope's name; the OpenAPI document lists the registry's scopes as its values (``portal.api.schema``)."""


class PresetNameField(serializers.CharField):
    """A scope preset's name; the OpenAPI document lists the presets as its values."""
