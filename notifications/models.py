"""E-mail outbox, people's notification preferences, and the record of expiry notices sent (section 14)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class OutboundEmail(models.Model):
    """A mail rendered where it was asked for and sent by the worker. The content is encrypted: some mails
    carry a link that is itself a credential (an invitation), and the job's argument is only this row's id."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    kind = models.CharField(max_length=64)
    to = models.JSONField(default=list)
    subject = models.CharField(max_length=255)
    content_encrypted = models.TextField(editable=False)
    # Makes a notice idempotent: one mail per (key, window), however often the job runs.
    dedupe_key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempt_count = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    locked_until = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="outbound_email_due")]

    def __str__(self) -> str:
        return f"{self.kind} to {', '.join(self.to)} ({self.status})"


class NotificationPreference(models.Model):
    """What a person lets the portal tell them beyond account security (which always goes)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="notification_preference")
    key_expiry = models.BooleanField(default=True,
                                     help_text="API keys that expire in 7 days, in 1 day, or have expired")
    webhook_disabled = models.BooleanField(default=True, help_text="A webhook endpoint the portal had to disable")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Notifications of {self.user}"


class ExpiryNotice(models.Model):
    """One expiry window of one key, noticed (mail and ``api_key.expiring``/``expired`` event) once."""

    class Stage(models.TextChoices):
        SEVEN_DAYS = "7d", "Expires in 7 days"
        ONE_DAY = "1d", "Expires in 1 day"
        EXPIRED = "expired", "Expired"

    api_key = models.ForeignKey("apikeys.ApiKey", on_delete=models.CASCADE, related_name="expiry_notices")
    stage = models.CharField(max_length=8, choices=Stage.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["api_key", "stage"], name="expiry_notice_once")]

    def __str__(self) -> str:
        return f"{self.api_key_id} {self.stage}"
