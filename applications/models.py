from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class Application(models.Model):
    """A developer's integration. Owns API keys (``apikeys``) and OAuth clients (``oauthapps``)."""

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="applications"
    )
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True, max_length=2000)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        # The model moved here from ``apikeys`` and kept its table (migrations/0001_initial.py).
        db_table = "apikeys_application"
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="application_name_unique_in_org")
        ]

    def __str__(self) -> str:
        return self.name
