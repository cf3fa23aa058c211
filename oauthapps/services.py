"""Writes to OAuth clients and their tokens. Each one audits itself."""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from oauth2_provider.models import AccessToken, Grant, IDToken, RefreshToken
from oauth2_provider.settings import oauth2_settings

from apikeys.models import ApiKey, Application
from apikeys.services import application_get_or_create_default, clean_rate_limit
from audit.services import audit_record
from oauthapps.models import DOT_GRANT_NAMES, OAuthClient, PluginCredential, SpentAuthorizationCode
from oauthapps.redirects import clean_redirect_uris
from oauthapps.server import GRANT_TYPES
from portal import scopes as scope_registry
from portal.callers import Caller
from portal.conf import portal_settings
from portal.encryption import decrypt, encrypt, reencrypt

logger = logging.getLogger(__name__)

CLIENT_TYPES = (OAuthClient.CLIENT_CONFIDENTIAL, OAuthClient.CLIENT_PUBLIC)


def new_client_secret() -> str:
    """56 URL-safe characters (336 bits) from ``secrets``."""
    return secrets.token_urlsafe(42)


def _clean_grants(client_type: str, grant_types: list[str] | None) -> list[str]:
    grants = list(dict.fromkeys(grant_types or []))
    if not grants:
        raise ValidationError({"grant_types": [f"Choose at least one of: {', '.join(GRANT_TYPES)}."]})
    unknown = [g for g in grants if g not in GRANT_TYPES]
    if unknown:
        raise ValidationError({"grant_types": [
            f"Not offered: {', '.join(unknown)}. Choose from {', '.join(GRANT_TYPES)} "
            "(no implicit or password grant: RFC 9700)."
        ]})
    if client_type == OAuthClient.CLIENT_PUBLIC and "client_credentials" in grants:
        raise ValidationError({"grant_types": ["A public client has no secret, so it cannot use client_credentials."]})
    if "refresh_token" in grants and "authorization_code" not in grants:
        raise ValidationError({"grant_types": ["refresh_token goes with authorization_code."]})
    return [g for g in GRANT_TYPES if g in grants]


def _clean_redirects(grants: list[str], redirect_uris: list[str] | None) -> list[str]:
    cleaned, problems = clean_redirect_uris(redirect_uris or [])
    if problems:
        raise ValidationError({"redirect_uris": [f"{uri}: {problem}" if uri != "*" else problem
                                                 for uri, problem in problems.items()]})
    if "authorization_code" in grants and not cleaned:
        raise ValidationError({"redirect_uris": ["The authorization_code grant needs at least one redirect URI."]})
    return cleaned


def _clean_scopes(caller: Caller, allowed_scopes: list[str] | None) -> list[str]:
    if not allowed_scopes:
        raise ValidationError({"allowed_scopes": ["Choose the scopes this client's tokens may hold."]})
    try:
        scopes = scope_registry.normalize(allowed_scopes)
    except scope_registry.ScopeError as exc:
        raise ValidationError({"allowed_scopes": [str(exc)]}) from None
    scope_registry.check_grantable(caller.scopes, scopes)
    return scopes


def _clean_name(name: str | None) -> str:
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise ValidationError({"name": ["Give the client a name of 1 to 120 characters."]})
    return name


@transaction.atomic
def oauth_client_create(
    *,
    caller: Caller,
    application: Application,
    name: str,
    client_type: str = OAuthClient.CLIENT_CONFIDENTIAL,
    grant_types: list[str] | None = None,
    redirect_uris: list[str] | None = None,
    allowed_scopes: list[str] | None = None,
    rate_limit_per_minute: int | None = None,
) -> tuple[OAuthClient, str | None]:
    """Register a client. Returns ``(client, secret)``; the secret (confidential clients only) exists here once
    and is stored as a keyed hash."""
    if application.organization_id != caller.organization.pk:
        raise ValidationError({"application_id": ["No such application."]})
    if client_type not in CLIENT_TYPES:
        raise ValidationError({"client_type": ["Choose confidential or public."]})
    grants = _clean_grants(client_type, grant_types)
    secret = new_client_secret() if client_type == OAuthClient.CLIENT_CONFIDENTIAL else None
    client = OAuthClient(
        organization=caller.organization,
        application=application,
        name=_clean_name(name),
        client_type=client_type,
        grant_types=grants,
        authorization_grant_type=DOT_GRANT_NAMES[grants[0]],
        redirect_uris=" ".join(_clean_redirects(grants, redirect_uris)),
        allowed_scopes=_clean_scopes(caller, allowed_scopes),
        rate_limit_per_minute=clean_rate_limit(rate_limit_per_minute),
        client_secret=secret or "",
        hash_client_secret=True,
        skip_authorization=False,
        created_by=caller.person,
    )
    client.save()
    audit_record(action="oauth_client.created", actor=caller.audit_actor, organization=caller.organization,
                 target=client, metadata={"clientId": client.client_id, "grantTypes": grants,
                                          "allowedScopes": client.allowed_scopes, "clientType": client_type})
    return client, secret


@transaction.atomic
def oauth_client_update(
    *,
    caller: Caller,
    client: OAuthClient,
    name: str | None = None,
    grant_types: list[str] | None = None,
    redirect_uris: list[str] | None = None,
    allowed_scopes: list[str] | None = None,
    rate_limit_per_minute: int | None | object = ...,
) -> OAuthClient:
    client = OAuthClient.objects.select_for_update().get(pk=client.pk, organization=caller.organization)
    changed: list[str] = []
    if name is not None:
        client.name = _clean_name(name)
        changed.append("name")
    grants = _clean_grants(client.client_type, grant_types) if grant_types is not None else client.grant_types
    if grant_types is not None:
        client.grant_types, client.authorization_grant_type = grants, DOT_GRANT_NAMES[grants[0]]
        changed += ["grant_types", "authorization_grant_type"]
    if redirect_uris is not None or grant_types is not None:
        uris = redirect_uris if redirect_uris is not None else client.redirect_uris.split()
        client.redirect_uris = " ".join(_clean_redirects(grants, uris))
        changed.append("redirect_uris")
    if allowed_scopes is not None:
        client.allowed_scopes = _clean_scopes(caller, allowed_scopes)
        changed.append("allowed_scopes")
    if rate_limit_per_minute is not ...:
        client.rate_limit_per_minute = clean_rate_limit(rate_limit_per_minute)
        changed.append("rate_limit_per_minute")
    if changed:
        client.save(update_fields=[*changed, "updated"])
        audit_record(action="oauth_client.updated", actor=caller.audit_actor, organization=caller.organization,
                     target=client, metadata={"clientId": client.client_id, "fields": sorted(set(changed))})
    return client


@transaction.atomic
def oauth_client_rotate_secret(*, caller: Caller, client: OAuthClient) -> tuple[OAuthClient, str]:
    """A new secret, shown once; the old one stops working at once. Issued tokens stay valid until they expire
    or are revoked."""
    client = OAuthClient.objects.select_for_update().get(pk=client.pk, organization=caller.organization)
    if client.client_type != OAuthClient.CLIENT_CONFIDENTIAL:
        raise ValidationError({"client_type": ["A public client has no secret to rotate."]})
    secret = new_client_secret()
    client.client_secret = secret
    client.save(update_fields=["client_secret", "updated"])
    plugin = PluginCredential.objects.filter(client=client).first()
    if plugin is not None:
        plugin.encrypted_secret = encrypt(secret)
        plugin.save(update_fields=["encrypted_secret", "updated_at"])
    audit_record(action="oauth_client.secret_rotated", actor=caller.audit_actor, organization=caller.organization,
                 target=client, metadata={"clientId": client.client_id})
    return client, secret


@transaction.atomic
def oauth_client_delete(*, caller: Caller, client: OAuthClient) -> None:
    """Delete a client; its tokens and grants go with it (database cascade), so they fail at once."""
    audit_record(action="oauth_client.deleted", actor=caller.audit_actor, organization=caller.organization,
                 target=client, metadata={"clientId": client.client_id})
    client.delete()


@transaction.atomic
def oauth_clients_delete_for_application(*, caller: Caller, application: Application) -> None:
    for client in OAuthClient.objects.filter(application=application, organization=caller.organization):
        oauth_client_delete(caller=caller, client=client)


@transaction.atomic
def oauth_tokens_revoke_for_user(*, user, client: OAuthClient) -> int:
    """A person withdraws a client's access: every token the client holds for them goes."""
    refresh = RefreshToken.objects.filter(user=user, application=client, revoked__isnull=True)
    count = 0
    for token in refresh:
        token.revoke()
        count += 1
    count += AccessToken.objects.filter(user=user, application=client).delete()[0]
    audit_record(action="oauth_consent.revoked", actor=user, organization=client.organization, target=client,
                 metadata={"clientId": client.client_id, "tokens": count})
    return count


@transaction.atomic
def oauth_tokens_revoke(*, actor, tokens) -> int:
    """Staff revoke access or refresh tokens (admin actions); each revocation is audited."""
    count = 0
    for token in tokens.select_related("application", "application__organization"):
        client = token.application
        audit_record(action="oauth_token.revoked", actor=actor, organization=client.organization if client else None,
                     target=client, metadata={"clientId": client.client_id if client else None,
                                              "tokenId": token.pk, "kind": token._meta.model_name})
        token.revoke()
        count += 1
    return count


@transaction.atomic
def oauth_access_tokens_revoke(*, actor, tokens) -> tuple[int, int]:
    """Revoke access tokens and the live refresh tokens issued with them, as DOT's ``revoke_access_token``
    does: deleting an access token alone would leave its refresh token listed as live. Returns both counts."""
    refresh = RefreshToken.objects.filter(access_token__in=tokens, revoked__isnull=True)
    refresh_ids = list(refresh.values_list("pk", flat=True))
    revoked = oauth_tokens_revoke(actor=actor, tokens=tokens)
    oauth_tokens_revoke(actor=actor, tokens=RefreshToken.objects.filter(pk__in=refresh_ids))
    return revoked, len(refresh_ids)


# Plugins ----------------------------------------------------------------------------------------------------

PLUGIN_APPLICATION_NAME = "Plugins"
PLUGIN_NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,59}$")


@transaction.atomic
def plugin_provision(*, organization, name: str, scopes: list[str], actor: Any = None
                     ) -> tuple[PluginCredential, str, bool]:
    """An internal plugin's client-credentials client, made once. Returns ``(credential, secret, created)``.

    The plugin's secret is the one secret the portal keeps readable (encrypted with ``PORTAL_ENCRYPTION_KEYS``):
    a redeploy of the plugin needs it again. Provisioning a name that exists makes nothing and returns the
    existing client's secret; the same name in another organization is refused.
    """
    name = (name or "").strip()
    if not PLUGIN_NAME_PATTERN.match(name):
        raise ValidationError({"name": ["Use 1 to 60 lower-case letters, digits, '-' or '_', starting with a letter "
                                        "or digit."]})
    existing = PluginCredential.objects.select_related("client__organization").filter(name=name).first()
    if existing is not None:
        if existing.client.organization_id != organization.pk:
            raise ValidationError({"name": [f"The plugin {name!r} is already provisioned for another organization."]})
        return existing, decrypt(existing.encrypted_secret), False
    caller = Caller.system(organization, actor=actor)
    application = application_get_or_create_default(caller=caller, name=PLUGIN_APPLICATION_NAME)
    client, secret = oauth_client_create(caller=caller, application=application, name=name,
                                         client_type=OAuthClient.CLIENT_CONFIDENTIAL,
                                         grant_types=["client_credentials"], allowed_scopes=scopes)
    try:
        with transaction.atomic():
            credential = PluginCredential.objects.create(name=name, client=client, encrypted_secret=encrypt(secret))
    except IntegrityError:
        raise ValidationError({"name": [f"The plugin {name!r} was provisioned at the same time; run again."]}) from None
    audit_record(action="plugin.provisioned", actor=caller.audit_actor, organization=organization, target=client,
                 metadata={"plugin": name, "clientId": client.client_id, "allowedScopes": client.allowed_scopes})
    return credential, secret, True


def plugin_env_lines(*, credential: PluginCredential, secret: str | None = None) -> list[str]:
    """The three lines of an environment file for a plugin. Decrypts the secret unless it is given.

    Raises ``portal.encryption.DecryptionError`` when no configured key can read the stored secret.
    """
    if secret is None:
        secret = decrypt(credential.encrypted_secret)
    return [
        f"OAUTH_CLIENT_ID={credential.client.client_id}",
        f"OAUTH_CLIENT_SECRET={secret}",
        f"API_BASE_URL={portal_settings.BASE_URL.rstrip('/')}/api/v1",
    ]


@transaction.atomic
def encryption_keys_rotate() -> int:
    """Re-encrypt every stored plugin secret under the first of ``PORTAL_ENCRYPTION_KEYS``.

    All or nothing: one secret no configured key can read raises ``DecryptionError`` and changes nothing, so
    the operator can put the missing key back and run again. Afterwards the older keys can be dropped.
    """
    count = 0
    for credential in PluginCredential.objects.select_for_update().order_by("pk"):
        credential.encrypted_secret = reencrypt(credential.encrypted_secret)
        credential.save(update_fields=["encrypted_secret", "updated_at"])
        count += 1
    return count


# Housekeeping -----------------------------------------------------------------------------------------------

SPENT_CODE_RETENTION = timedelta(days=1)
DEAD_KEY_RETENTION = timedelta(days=90)


def _delete_in_batches(queryset: models.QuerySet, batch_size: int) -> int:
    """Delete the rows of ``queryset`` a batch at a time (each its own short transaction); return how many."""
    removed = 0
    while True:
        ids = list(queryset.order_by().values_list("pk", flat=True)[:batch_size])
        if not ids:
            return removed
        queryset.model._default_manager.filter(pk__in=ids).delete()
        removed += len(ids)


def purge_expired(*, batch_size: int = 1000, now: datetime | None = None,
                  progress: Callable[[str, int], None] | None = None) -> dict[str, int]:
    """Remove what can never be used again, in batches. Returns the number removed of each kind.

    The rules are django-oauth-toolkit's ``clear_expired``: a refresh token lives ``REFRESH_TOKEN_EXPIRE_SECONDS``
    past its access token's expiry; a revoked one is kept as long (reuse protection needs it to recognise a replay
    and revoke the family); an access token that still has a refresh token stays (deleting it would orphan the
    refresh token). Spent authorization codes are kept a day (a replay after that finds no code anyway), and API
    keys that expired or were revoked more than 90 days ago go (lists and audit events keep their public id).
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    now = now or timezone.now()
    refresh_lifetime = timedelta(seconds=oauth2_settings.REFRESH_TOKEN_EXPIRE_SECONDS or 0)
    refresh_cutoff = now - refresh_lifetime
    if oauth2_settings.REFRESH_TOKEN_REUSE_PROTECTION:
        revoked_cutoff = refresh_cutoff
    else:
        revoked_cutoff = now - timedelta(seconds=oauth2_settings.REFRESH_TOKEN_GRACE_PERIOD_SECONDS or 0)
    dead_key_cutoff = now - DEAD_KEY_RETENTION
    plan: list[tuple[str, models.QuerySet]] = [
        ("refresh tokens", RefreshToken.objects.filter(
            models.Q(revoked__lte=revoked_cutoff)
            | models.Q(revoked__isnull=True, access_token__isnull=True)
            | models.Q(revoked__isnull=True, access_token__expires__lte=refresh_cutoff)
        )),
        ("access tokens", AccessToken.objects.filter(refresh_token__isnull=True, expires__lt=now)),
        ("id tokens", IDToken.objects.filter(access_token__isnull=True, expires__lt=now)),
        ("authorization codes", Grant.objects.filter(expires__lt=now)),
        ("spent authorization codes", SpentAuthorizationCode.objects.filter(spent_at__lt=now - SPENT_CODE_RETENTION)),
        ("api keys", ApiKey.objects.filter(models.Q(expires_at__lt=dead_key_cutoff)
                                           | models.Q(revoked_at__lt=dead_key_cutoff))),
    ]
    removed: dict[str, int] = {}
    for kind, queryset in plan:
        removed[kind] = _delete_in_batches(queryset, batch_size)
        logger.info("purge_expired: %s removed %d", kind, removed[kind])
        if progress is not None:
            progress(kind, removed[kind])
    return removed
