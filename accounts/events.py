"""Signals that accounts sends for the apps that depend on it (which accounts itself must not import)."""

from __future__ import annotations

from django.dispatch import Signal

# A membership ends (removed, or left), inside the transaction that ends it (contract section 2). Arguments:
# ``organization``, ``user`` (the former member), ``actor`` (who ended it, for the audit log) and
# ``revoke_credentials`` (the remover chose to revoke the keys and clients the member made). Each receiver
# returns a dict of what it revoked ({"apiKeys": 2}), which the ``member.removed`` event records.
membership_ended = Signal()

# An invitation was made and its link should go by e-mail, inside the transaction that made it (the mail is
# queued, encrypted, and leaves only on commit). Arguments: ``organization``, ``email``, ``role``, ``inviter``
# (who invites, as the mail names them), ``url`` (the link, holding the token) and ``ttl_days``. The
# ``notifications`` app writes the mail.
invitation_mailing = Signal()
