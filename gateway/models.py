"""A resource server: one of the site's own services (or the gateway in front of them) that accepts the portal's
credentials. It belongs to the site, not to an organization."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class ResourceServer(models.Model):
    """``client_id`` is public; only a keyed hash of the secret is stored (``gateway.secrets``)."""

    name = models.CharField(max_length=100, unique=True)
    client_id = models.CharField(max_length=40, unique=True, editable=False)
    secret_hash = models.CharField(max_length=64, editable=False)
    scopes = models.JSONField(default=list, help_text="The registry scopes this service serves.")
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    secret_rotated_at = models.DateTimeField(null=True, blank=True, editable=False)
    disabled_at = models.DateTimeField(null=True, blank=True, editable=False)

    audit_actor_type = "resource_server"

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def audit_actor_id(self) -> str:
        return self.client_id
