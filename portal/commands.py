"""Small helpers shared by the management commands."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from portal.scopes import ScopeEscalation


def command_error(exc: ValidationError) -> CommandError:
    """A service's ``ValidationError`` as one line: ``field: message; field: message``."""
    if hasattr(exc, "error_dict"):
        return CommandError("; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items()))
    return CommandError("; ".join(exc.messages))


@contextmanager
def service_refusals_as_command_errors() -> Iterator[None]:
    """A service's refusal (bad input, or scopes beyond the caller's) ends the command with its one-line reason."""
    try:
        yield
    except ValidationError as exc:
        raise command_error(exc) from None
    except ScopeEscalation as exc:
        raise CommandError(str(exc)) from None
