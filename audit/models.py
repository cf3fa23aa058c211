from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class AuditEvent(models.Model):
    """One row for every change, sign-in and failed sign-in. Written by services, never edited."""

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.SET_NULL, null=True, blank=True, related_name="audit_events"
    )
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # A credential acting on its own (an API key, an OAuth client): its kind and public id.
    actor_credential_type = models.CharField(max_length=32, blank=True)
    actor_credential_id = models.CharField(max_length=64, blank=True)
    # Who it was, as text that survives the user or credential being deleted.
    actor_label = models.CharField(max_length=255, blank=True)
    action = models.CharField(max_length=64)
    target_type = models.CharField(max_length=64, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    target_label = models.CharField(max_length=255, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["organization", "-created_at", "-id"], name="audit_org_newest"),
            models.Index(fields=["organization", "action", "-created_at"], name="audit_org_action_newest"),
        ]

    def __str__(self) -> str:
        return f"{self.action} by {self.actor_label or 'system'}"

    @property
    def actor_type(self) -> str:
        """``api_key`` or ``oauth_client`` for a credential (even one acting for a person), else ``user`` or
        ``system``: the API's ``actor.type``."""
        if self.actor_credential_type:
            return self.actor_credential_type
        return "user" if self.actor_user_id else "system"

    @property
    def actor_id(self) -> str:
        """The credential's public id, or the person's id; empty for the system."""
        if self.actor_credential_type:
            return self.actor_credential_id
        return str(self.actor_user_id) if self.actor_user_id else ""
