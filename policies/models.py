"""An organization's credential policy: one row per organization that has set one (none means the defaults)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class CredentialPolicy(models.Model):
    organization = models.OneToOneField("accounts.Organization", on_delete=models.CASCADE, primary_key=True,
                                        related_name="credential_policy")
    # New keys must expire within this many days (1 to 365); null: the portal's own limit.
    max_key_lifetime_days = models.PositiveSmallIntegerField(null=True, blank=True)
    # The scopes the organization's keys and OAuth clients may hold; null: every scope of the registry.
    allowed_scopes = models.JSONField(null=True, blank=True)
    live_keys_need_ip_ranges = models.BooleanField(default=False)
    # The worker revokes keys not used for this many days (30 to 365); null: never.
    revoke_unused_keys_after_days = models.PositiveSmallIntegerField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "credential policy"
        verbose_name_plural = "credential policies"

    def __str__(self) -> str:
        return f"Credential policy of {self.organization}"
