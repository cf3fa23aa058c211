from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from apikeys import crypto


class KeyStatus(models.TextChoices):
    """A key's status, worked out from its dates (``ApiKey.status`` on a row, ``ApiKeyQuerySet.with_status`` in
    a query): revoked wins, then expired, then rotating (an old key in its grace period), else active."""

    ACTIVE = "active", "Active"
    ROTATING = "rotating", "Rotating (old key in its grace period)"
    EXPIRED = "expired", "Expired"
    REVOKED = "revoked", "Revoked"


class ApiKeyQuerySet(models.QuerySet["ApiKey"]):
    def with_status(self, status: str) -> ApiKeyQuerySet:
        """The keys whose ``status`` is ``status``, as one condition on the table (the same rules as
        ``ApiKey.status``)."""
        now = timezone.now()
        unexpired = Q(expires_at__isnull=True) | Q(expires_at__gt=now)
        conditions = {
            KeyStatus.REVOKED: Q(revoked_at__isnull=False),
            KeyStatus.EXPIRED: Q(revoked_at__isnull=True, expires_at__lte=now),
            KeyStatus.ROTATING: Q(revoked_at__isnull=True, rotated_at__isnull=False) & unexpired,
            KeyStatus.ACTIVE: Q(revoked_at__isnull=True, rotated_at__isnull=True) & unexpired,
        }
        return self.filter(conditions[KeyStatus(status)])


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

    objects = ApiKeyQuerySet.as_manager()

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
    def status(self) -> KeyStatus:
        """See ``KeyStatus``; ``ApiKeyQuerySet.with_status`` is the same rule as a query."""
        if self.revoked_at is not None:
            return KeyStatus.REVOKED
        if self.expires_at is not None and self.expires_at <= timezone.now():
            return KeyStatus.EXPIRED
        if self.rotated_at is not None:
            return KeyStatus.ROTATING
        return KeyStatus.ACTIVE

    @property
    def is_usable(self) -> bool:
        """Neither revoked nor expired: the key works (active, or rotating in its grace period)."""
        return self.status in {KeyStatus.ACTIVE, KeyStatus.ROTATING}

    @property
    def replacement_failed(self) -> bool:
        """Rotating, but the replacement no longer works (revoked or expired): the old key needs a way forward."""
        return self.rotated_at is not None and self.replaced_by is not None and not self.replaced_by.is_usable

    @property
    def can_be_rotated(self) -> bool:
        """A working key without a working replacement: an active one, or one whose replacement failed."""
        return self.is_usable and (self.replaced_by_id is None or self.replacement_failed)

    @property
    def can_keep(self) -> bool:
        """A key still in its grace period whose replacement failed may go back to how it was before."""
        return self.status == KeyStatus.ROTATING and self.replacement_failed
