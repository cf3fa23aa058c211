"""Assertions shared by several test modules."""

from __future__ import annotations

import socket
from contextlib import contextmanager

from django.apps import apps
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.db import models
from django.test import TestCase

TEXT_FIELDS = (models.CharField, models.TextField, models.JSONField, models.EmailField)


def stored_text_containing(secret: str) -> list[str]:
    """Every ``table.column`` (and decoded session) whose value contains ``secret``. Should be empty."""
    found: list[str] = []
    for model in apps.get_models():
        fields = [f.name for f in model._meta.concrete_fields if isinstance(f, TEXT_FIELDS)]
        if not fields:
            continue
        for row in model._default_manager.values_list(*fields):
            for name, value in zip(fields, row, strict=True):
                if value is not None and secret in str(value):
                    found.append(f"{model._meta.db_table}.{name}")
    for session in Session.objects.all():
        if secret in str(SessionStore().decode(session.session_data)):
            found.append(f"session {session.session_key}")
    return found


def redis_is_running() -> bool:
    """Whether the Redis server of these machines answers on 127.0.0.1:6379."""
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
        return True
    except OSError:
        return False


@contextmanager
def committed():
    """The block's writes commit as a request's do outside a test: what waited for the commit runs then, such as
    the job that sends a queued mail (inline in tests) into ``mail.outbox``. Without it, a test's transaction never
    commits, and a mail stays a ``PendingMail`` row."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        yield


def listed_names(response) -> list[str]:
    """The names of what a dashboard list page shows (``portal.listing``), in its order."""
    return [item.name for item in response.context["listing"].page]
