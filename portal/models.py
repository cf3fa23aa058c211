"""The core's one table: mail waiting to be sent (``portal.mail``)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class PendingMail(models.Model):
    """A mail recorded in the transaction of the change it tells about, sent once that commits, and kept until a
    send succeeds. Its body may hold a single-use link (an invitation), so it is stored encrypted with
    ``PORTAL_ENCRYPTION_KEYS``, and the row is deleted as soon as the mail is sent."""

    kind = models.CharField(max_length=64, blank=True)  # "invitation", "key_expiry.7d", ... for the log
    subject = models.CharField(max_length=255)
    body_encrypted = models.TextField()
    html_encrypted = models.TextField(blank=True)  # the HTML part, beside the text one
    recipients = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)
    # Set while one process sends it, so that another one does not send it twice; a claim older than
    # ``portal.mail.CLAIM_SECONDS`` is a sender that died, and the mail may be taken again.
    claimed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    # After a failure the worker's sweep tries again from then on, with backoff.
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_failure = models.CharField(max_length=100, blank=True, help_text="The error's type, never its text.")

    class Meta:
        ordering = ("created_at", "id")

    def __str__(self) -> str:
        return f"{self.subject} ({len(self.recipients)} recipient(s), {self.attempts} failed attempt(s))"
