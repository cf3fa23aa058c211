"""People's notification preferences, and the record of expiry notices sent (section 14)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


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
