from __future__ import annotations

from django.conf import settings
from django.db import models
from oauth2_provider.models import AbstractApplication, ApplicationManager


class OAuthClient(AbstractApplication):
    """An OAuth 2.0 client: django-oauth-toolkit's swapped application model.

    Named for what it is, so it does not collide with the developer's ``apikeys.Application``.
    DOT allows one grant type per client; ``grant_types`` holds every grant the client may use and
    ``authorization_grant_type`` keeps the first of them for DOT's own checks.
    """

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="oauth_clients"
    )
    application = models.ForeignKey(
        "apikeys.Application", on_delete=models.CASCADE, related_name="oauth_clients"
    )
    grant_types = models.JSONField(default=list, blank=True)
    allowed_scopes = models.JSONField(default=list, blank=True)
    rate_limit_per_minute = models.PositiveIntegerField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApplicationManager()

    class Meta(AbstractApplication.Meta):
        swappable = "OAUTH2_PROVIDER_APPLICATION_MODEL"
        verbose_name = "OAuth client"

    def allows_grant_type(self, *grant_types: str) -> bool:
        allowed = set(self.grant_types or [self.authorization_grant_type])
        return bool(allowed.intersection(grant_types))

    def natural_key(self) -> tuple[str]:
        return (self.client_id,)
