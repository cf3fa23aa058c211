"""When each credential last used each of its scopes (contract section 19), written in batches by the usage
recorder's flush (``security.scope_usage``), never once per request."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class ScopeUsage(models.Model):
    """One credential's last use of one scope. Exactly one of ``api_key``/``oauth_client``; for an OAuth client,
    ``user_id`` is the person its token acted for (0 for the client's own, client-credentials, tokens)."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+",
                                     db_index=False)
    api_key = models.ForeignKey("apikeys.ApiKey", on_delete=models.CASCADE, null=True, blank=True,
                                related_name="+", db_index=False)
    oauth_client = models.ForeignKey(settings.OAUTH2_PROVIDER_APPLICATION_MODEL, on_delete=models.CASCADE,
                                     null=True, blank=True, related_name="+", db_index=False)
    user_id = models.BigIntegerField(default=0)
    scope = models.CharField(max_length=64)
    last_used_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["api_key", "scope"], condition=Q(api_key__isnull=False),
                                    name="scopeusage_key_scope"),
            models.UniqueConstraint(fields=["oauth_client", "user_id", "scope"],
                                    condition=Q(oauth_client__isnull=False), name="scopeusage_client_user_scope"),
        ]

    def __str__(self) -> str:
        return f"{self.scope} last used {self.last_used_at:%Y-%m-%d %H:%M}"


class UnusedKeyNotice(models.Model):
    """The mail that a key will be revoked for not being used, sent once per idle stretch: ``idle_since`` is the
    last use (or creation) it counted from, so a key used again and then idle again is told again."""

    api_key = models.ForeignKey("apikeys.ApiKey", on_delete=models.CASCADE, related_name="+")
    idle_since = models.DateTimeField()
    revoke_after = models.DateTimeField()
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["api_key", "idle_since"], name="unusedkeynotice_once")]

    def __str__(self) -> str:
        return f"unused-key notice for key {self.api_key_id}"
