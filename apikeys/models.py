from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from apikeys import crypto


class ApiKey(models.Model):
    """An API key. Only an HMAC of the key is stored; the key itself is shown once at creation."""

    class Environment(models.TextChoices):
        LIVE = "live", "Live"
        TEST = "test", "Test"

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="api_keys")
    application = models.ForeignKey("applications.Application", on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=120)
    public_id = models.CharField(max_length=16, unique=True, editable=False)
    prefix = models.CharField(max_length=16, editable=False)
    environment = models.CharField(max_length=4, choices=Environment.choices, default=Environment.LIVE)
    key_hash = models.CharField(max_length=64, editable=False)
    scopes = models.JSONField(default=list)
    expires_at = models.DateTimeField(null=True, blank=True)
    rate_limit_per_minute = models.PositiveIntegerField(null=True, blank=True)
    allowed_ips = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Who made it when no person did (another key, a command): kept as text for the record.
    created_by_label = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    rotated_at = models.DateTimeField(null=True, blank=True)
    # The expiry the key had before its rotation cut it to the grace period: what "Keep this key" restores, and
    # what a second rotation counts from.
    expires_at_before_rotation = models.DateTimeField(null=True, blank=True, editable=False)
    replaced_by = models.OneToOneField(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="replaces"
    )

    audit_actor_type = "api_key"

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organization", "-created_at"], name="apikey_org_newest")]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} ({self.masked})"

    @property
    def audit_actor_id(self) -> str:
        return self.public_id

    @property
    def audit_actor_user(self):
        return None

    @property
    def masked(self) -> str:
        return crypto.mask(self.public_id, prefix=self.prefix, environment=self.environment)

    @property
    def status(self) -> str:
        now = timezone.now()
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        if self.rotated_at is not None:
            return "rotating"
        return "active"

    @property
    def is_usable(self) -> bool:
        return self.status in {"active", "rotating"}

    @property
    def replacement_failed(self) -> bool:
        """Rotating, but the replacement no longer works (revoked or expired): the old key needs a way forward."""
        return self.rotated_at is not None and self.replaced_by_id is not None and not self.replaced_by.is_usable

    @property
    def can_be_rotated(self) -> bool:
        """A working key without a working replacement: an active one, or one whose replacement failed."""
        return self.is_usable and (self.replaced_by_id is None or self.replacement_failed)

    @property
    def can_keep(self) -> bool:
        """A key still in its grace period whose replacement failed may go back to how it was before."""
        return self.status == "rotating" and self.replacement_failed
