"""Usage counts per credential and time bucket, and the request log.

Both tables are written in batches by ``usage.recorder`` (never one row per request) and pruned by
``usage.services.usage_prune``: minute buckets after 48 hours, hour buckets after 90 days, day buckets after two
years, log rows after 7 days.

``application_id`` is copied from the credential (a key or client never changes application) so that an
application's usage is one indexed range, without a join; it is a plain number rather than a foreign key
because deleting the credential (which an application's deletion does) already deletes its rows.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q

from accounts.models import Organization


class Granularity(models.TextChoices):
    MINUTE = "minute", "Minute"
    HOUR = "hour", "Hour"
    DAY = "day", "Day"


# Seconds in one bucket, and how long buckets of each size are kept (section 15 of the contract).
BUCKET_SECONDS: dict[str, int] = {Granularity.MINUTE: 60, Granularity.HOUR: 3600, Granularity.DAY: 86400}
RETENTION = {
    Granularity.MINUTE: timedelta(hours=48),
    Granularity.HOUR: timedelta(days=90),
    Granularity.DAY: timedelta(days=731),
}
REQUEST_LOG_RETENTION = timedelta(days=7)


class CredentialRow(models.Model):
    """A row about one credential's requests: its organization, and the API key or OAuth client. Deleting the
    credential deletes its rows. The composite indexes of each table lead with these columns, so no index of
    their own."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+",
                                     db_index=False)
    api_key = models.ForeignKey("apikeys.ApiKey", on_delete=models.CASCADE, null=True, blank=True,
                                related_name="+", db_index=False)
    oauth_client = models.ForeignKey(settings.OAUTH2_PROVIDER_APPLICATION_MODEL, on_delete=models.CASCADE,
                                     null=True, blank=True, related_name="+", db_index=False)

    class Meta:
        abstract = True


class UsageCount(CredentialRow):
    """Requests of one credential in one bucket, by outcome. Exactly one of ``api_key``/``oauth_client``."""

    granularity = models.CharField(max_length=6, choices=Granularity.choices)
    start = models.DateTimeField()
    application_id = models.BigIntegerField()
    success = models.PositiveBigIntegerField(default=0)
    client_errors = models.PositiveBigIntegerField(default=0)
    rate_limited = models.PositiveBigIntegerField(default=0)
    server_errors = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            # The targets of the batch upsert (ON CONFLICT ... WHERE ...), one per kind of credential.
            models.UniqueConstraint(fields=["api_key", "granularity", "start"], condition=Q(api_key__isnull=False),
                                    name="usage_count_key_bucket"),
            models.UniqueConstraint(fields=["oauth_client", "granularity", "start"],
                                    condition=Q(oauth_client__isnull=False), name="usage_count_client_bucket"),
            models.CheckConstraint(condition=Q(api_key__isnull=True) ^ Q(oauth_client__isnull=True),
                                   name="usage_count_one_credential"),
        ]
        indexes = [
            models.Index(fields=["organization", "granularity", "start"], name="usage_count_org"),
            models.Index(fields=["application_id", "granularity", "start"], name="usage_count_app"),
            models.Index(fields=["granularity", "start"], name="usage_count_prune"),
        ]

    def __str__(self) -> str:
        return f"{self.granularity} {self.start:%Y-%m-%d %H:%M}"

    @property
    def requests(self) -> int:
        return self.success + self.client_errors + self.rate_limited + self.server_errors


class RequestLog(CredentialRow):
    """One API request made with a key or an OAuth token. ``request_id`` is its ``X-Request-Id``.

    Listing the newest of one key (or client, or organization) is one descent of a matching index and a read of
    the rows it lists, however large the table (measured in bench/api_bench.py with 10 million rows)."""

    request_id = models.CharField(max_length=128)
    created_at = models.DateTimeField()
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=2000)
    status = models.PositiveSmallIntegerField()
    duration_ms = models.FloatField()
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    # The resource server whose gateway asked (``/gateway/auth``, section 18), by name; None for the portal's own
    # API. A name, not a key: the log outlives a renamed or removed server, and usage imports nothing above it.
    resource_server = models.CharField(max_length=100, null=True, blank=True)  # noqa: DJ001 (null is the API's null)

    class Meta:
        indexes = [
            models.Index(fields=["organization", "-created_at", "-id"], name="request_log_org"),
            models.Index(fields=["api_key", "-created_at", "-id"], condition=Q(api_key__isnull=False),
                         name="request_log_key"),
            models.Index(fields=["oauth_client", "-created_at", "-id"], condition=Q(oauth_client__isnull=False),
                         name="request_log_client"),
            models.Index(fields=["created_at"], name="request_log_prune"),
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.path} {self.status}"


class RollupBatch(models.Model):
    """A batch of counts moved from Redis into the database, recorded in the same transaction as the counts, so
    that a job that dies after committing and before deleting the batch from Redis does not count it twice."""

    name = models.CharField(max_length=100, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class OrganizationUsage(Organization):
    """Organizations as the admin's "usage per organization" lists them (a proxy: no table of its own)."""

    class Meta:
        proxy = True
        verbose_name = "usage per organization"
        verbose_name_plural = "usage per organization"
