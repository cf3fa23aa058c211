"""Signals that applications sends for the apps that hang off an application (which it must not import)."""

from __future__ import annotations

from django.dispatch import Signal

# An application is about to be deleted, inside the transaction that deletes it. Arguments: ``caller`` (who
# deletes it) and ``application``. The keys it owns are revoked (``apikeys``) and its OAuth clients deleted
# (``oauthapps``), each audited, before the application goes, so nothing it held keeps working.
application_deleting = Signal()
