from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class LeakReport(models.Model):
    """A live credential of the portal found in public and revoked for it: where it was found, and who said so.

    Only credentials that were live when reported get a row (a revoked, expired or unknown one changes nothing).
    The token itself is never stored: the row names the key, or for an OAuth token its client.
    """

    class Via(models.TextChoices):
        GITHUB = "github", "GitHub secret scanning"
        PUBLIC = "public", "the public revocation endpoint"

    class Kind(models.TextChoices):
        API_KEY = "api_key", "API key"
        ACCESS_TOKEN = "oauth_access_token", "OAuth access token"
        REFRESH_TOKEN = "oauth_refresh_token", "OAuth refresh token"

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="leak_reports")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    api_key = models.ForeignKey("apikeys.ApiKey", on_delete=models.CASCADE, null=True, blank=True,
                                related_name="leak_reports")
    oauth_client = models.ForeignKey(settings.OAUTH2_PROVIDER_APPLICATION_MODEL, on_delete=models.CASCADE, null=True,
                                     blank=True, related_name="leak_reports")
    # What the credential was called when it was revoked (a masked key, a client id): the record outlives tokens.
    credential_label = models.CharField(max_length=255)
    via = models.CharField(max_length=8, choices=Via.choices)
    url = models.CharField(max_length=2000, blank=True, help_text="Where it was found, as the reporter gave it.")
    source = models.CharField(max_length=100, blank=True, help_text="GitHub's kind of place (content, commit, ...).")
    token_type = models.CharField(max_length=100, blank=True, help_text="The reporter's name for the token's type.")
    reported_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-reported_at", "-id"]
        indexes = [models.Index(fields=["organization", "-reported_at"], name="leakreport_org_newest")]

    def __str__(self) -> str:
        return f"{self.credential_label} ({self.get_via_display()}, {self.reported_at:%Y-%m-%d %H:%M})"

    @property
    def where(self) -> dict[str, str]:
        """Where it was found, as audit events and webhooks name it (never the token)."""
        return {"via": self.via, "url": self.url, "source": self.source, "tokenType": self.token_type}

    @property
    def url_is_link(self) -> bool:
        """Only an http(s) address becomes a link on a page; anything else is shown as text."""
        return self.url.startswith(("https://", "http://"))
