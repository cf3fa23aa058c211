"""Checks of input that more than one app's services make (API keys and OAuth clients alike)."""

from __future__ import annotations

from django.core.exceptions import ValidationError


def clean_rate_limit(value: int | None) -> int | None:
    """A credential's own requests-a-minute limit (API keys and OAuth clients): none, or 1 to 100000."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 100_000:
        raise ValidationError({"rate_limit_per_minute": ["Give a number of requests a minute from 1 to 100000."]})
    return value
