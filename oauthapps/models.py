from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from django.apps import apps as django_apps
from django.conf import settings
from django.db import models
from oauth2_provider.models import AbstractApplication, ApplicationManager

# The RFC 6749 grant names the portal uses, and DOT's names for the same grants.
DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
DOT_GRANT_NAMES = {
    "authorization_code": AbstractApplication.GRANT_AUTHORIZATION_CODE,
    "client_credentials": AbstractApplication.GRANT_CLIENT_CREDENTIALS,
    DEVICE_CODE_GRANT: AbstractApplication.GRANT_DEVICE_CODE,
}

# How a client's access tokens look (section 17): random strings, or RFC 9068 JWTs that other services
# verify with the JWKS alone.
ACCESS_TOKEN_FORMATS = ("opaque", "jwt")


class OAuthClient(AbstractApplication):
    """An OAuth 2.0 client: django-oauth-toolkit's swapped application model.

    Named for what it is, so it does not collide with the developer's ``applications.Application``.
    DOT allows one grant type per client; ``grant_types`` holds every grant the client may use and
    ``authorization_grant_type`` keeps the first of them for DOT's own checks.
    """

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="oauth_clients"
    )
    application = models.ForeignKey(
        "applications.Application", on_delete=models.CASCADE, related_name="oauth_clients"
    )
    grant_types = models.JSONField(default=list, blank=True)
    allowed_scopes = models.JSONField(default=list, blank=True)
    rate_limit_per_minute = models.PositiveIntegerField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    access_token_format = models.CharField(
        max_length=10, default="opaque", choices=[(f, f) for f in ACCESS_TOKEN_FORMATS]
    )

    objects = ApplicationManager()
    if TYPE_CHECKING:
        # django-oauth-toolkit ships no types, so its AbstractApplication (and with it this model's managers)
        # is Any to the stubs' plugin, which then cannot give the reverse relations to this model
        # (``organization.oauth_clients``, ``application.oauth_clients``) a manager.
        _default_manager: ClassVar[models.Manager[OAuthClient]]

    audit_actor_type = "oauth_client"

    class Meta(AbstractApplication.Meta):
        swappable = "OAUTH2_PROVIDER_APPLICATION_MODEL"
        verbose_name = "OAuth client"

    def allows_grant_type(self, *grant_types: str) -> bool:
        """DOT's check, in DOT's names ("authorization-code"); ``grant_types`` holds the RFC names."""
        allowed = {DOT_GRANT_NAMES.get(grant, grant) for grant in self.grant_types or []}
        return bool(allowed.intersection(grant_types))

    def natural_key(self) -> tuple[str]:
        return (self.client_id,)

    @property
    def audit_actor_id(self) -> str:
        return self.client_id

    @property
    def audit_actor_user(self):
        return None

    def is_usable(self, request) -> bool:
        """DOT asks before every use: a revoked client, or one of a suspended organization, cannot act."""
        return self.revoked_at is None and self.organization.suspended_at is None

    # Every client signs its ID tokens with the portal's RSA keys (``oauthapps.signing_keys``), never with its
    # secret (which is stored hashed, so HS256 could not work): DOT's per-client ``algorithm`` column is
    # replaced by this constant, and ``jwk_key`` (the hook DOT signs with) is the portal's current key. The app's
    # config hands it over, so that this module does not import the one that reads its own ``SigningKey`` table.
    algorithm = "RS256"

    @property
    def jwk_key(self):
        return django_apps.get_app_config("oauthapps").current_signing_jwk()

    def get_allowed_schemes(self) -> list[str]:
        # http is registered only for loopback addresses (RedirectUriValidator); matching stays exact.
        return ["https", "http"]


class TokenOrganization(models.Model):
    """The organization an OAuth grant or access token acts in.

    For client credentials it is the client's own organization; for the authorization-code flow, the one
    the person picked on the consent page (a client of one organization can be authorised by a member of
    another). Refreshed tokens inherit it.
    """

    grant = models.OneToOneField(
        "oauth2_provider.Grant", on_delete=models.CASCADE, null=True, blank=True, related_name="binding"
    )
    access_token = models.OneToOneField(
        "oauth2_provider.AccessToken", on_delete=models.CASCADE, null=True, blank=True, related_name="binding"
    )
    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(grant__isnull=False) | models.Q(access_token__isnull=False),
                name="token_organization_binds_something",
            )
        ]

    def __str__(self) -> str:
        return f"bound to organization {self.organization_id}"


class SpentAuthorizationCode(models.Model):
    """A redeemed authorization code (as a hash), so a replay can revoke what the code issued."""

    code_hash = models.CharField(max_length=64, unique=True)
    application = models.ForeignKey(OAuthClient, on_delete=models.CASCADE, related_name="+")
    token_family = models.UUIDField(null=True, blank=True)
    access_token_checksum = models.CharField(max_length=64, blank=True)
    spent_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return f"code spent at {self.spent_at:%Y-%m-%d %H:%M:%S}"


class PluginCredential(models.Model):
    """An internal plugin's client secret, kept encrypted (``PORTAL_ENCRYPTION_KEYS``) so a redeploy can
    read it again: the one secret the portal can hand out twice."""

    name = models.SlugField(max_length=60, unique=True)
    client = models.OneToOneField(OAuthClient, on_delete=models.CASCADE, related_name="plugin")
    encrypted_secret = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.name


class SigningKey(models.Model):
    """An RSA key that signs ID tokens and JWT access tokens, its private half encrypted with
    ``PORTAL_ENCRYPTION_KEYS``. The newest unretired key signs; a retired one stays published in the JWKS
    until everything it signed has expired (``oauthapps.signing_keys``)."""

    kid = models.CharField(max_length=64, unique=True)
    encrypted_private_key = models.TextField()
    public_jwk = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"signing key {self.kid}"


class DeviceAuthorization(models.Model):
    """The portal's side of a device grant (RFC 8628): DOT's ``DeviceGrant`` holds the codes (the device code
    only as its SHA-256), this row the organization the person chose when they approved."""

    device_grant = models.OneToOneField(
        "oauth2_provider.DeviceGrant", on_delete=models.CASCADE, related_name="portal"
    )
    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    # For ``slow_down``: DOT's ``last_checked`` is also touched by every other save of the grant.
    last_polled_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"device authorization {self.device_grant_id}"
