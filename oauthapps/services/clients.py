"""Writes to OAuth clients. Each one audits itself."""

from __future__ import annotations

import functools
import secrets
from collections.abc import Callable
from types import EllipsisType
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.verification import require_verified_email
from applications.models import Application
from audit.services import audit_record
from oauthapps.api.serializers import OAuthClientOutput
from oauthapps.models import ACCESS_TOKEN_FORMATS, DEVICE_CODE_GRANT, DOT_GRANT_NAMES, OAuthClient, PluginCredential
from oauthapps.redirects import clean_redirect_uris
from oauthapps.server import GRANT_TYPES
from policies.rules import check_client_scopes
from policies.selectors import policy_for
from portal import events
from portal import scopes as scope_registry
from portal.callers import Caller
from portal.encryption import encrypt
from portal.validators import clean_rate_limit

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
    if "refresh_token" in grants and not {"authorization_code", DEVICE_CODE_GRANT} & set(grants):
        raise ValidationError({"grant_types": [f"refresh_token goes with authorization_code or {DEVICE_CODE_GRANT}."]})
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
    check_client_scopes(policy_for(caller.organization.pk), scopes)  # the organization's policy (section 19)
    scope_registry.check_grantable(caller.scopes, scopes)
    return scopes


def _clean_token_format(access_token_format: str) -> str:
    if access_token_format not in ACCESS_TOKEN_FORMATS:
        raise ValidationError({"access_token_format": [f"Choose one of: {', '.join(ACCESS_TOKEN_FORMATS)}."]})
    return access_token_format


def _clean_name(name: str | None) -> str:
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise ValidationError({"name": ["Give the client a name of 1 to 120 characters."]})
    return name


@functools.cache
def _client_shape() -> Callable[[Any], dict[str, Any]]:
    return events.api_shape(OAuthClientOutput)


def _publish_client_event(client: OAuthClient, event_type: str) -> None:
    """The client as ``GET /api/v1/oauth-clients/{id}`` shows it, never its secret."""
    events.publish(client.organization_id, event_type, lambda: _client_shape()(client))


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
    access_token_format: str = "opaque",  # noqa: S107 (a format name, not a secret)
) -> tuple[OAuthClient, str | None]:
    """Register a client. Returns ``(client, secret)``; the secret (confidential clients only) exists here once
    and is stored as a keyed hash."""
    if application.organization_id != caller.organization.pk:
        raise ValidationError({"application_id": ["No such application."]})
    if client_type not in CLIENT_TYPES:
        raise ValidationError({"client_type": ["Choose confidential or public."]})
    require_verified_email(caller, "an OAuth client")
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
        access_token_format=_clean_token_format(access_token_format),
        client_secret=secret or "",
        hash_client_secret=True,
        skip_authorization=False,
        created_by=caller.person,
    )
    client.save()
    audit_record(action="oauth_client.created", actor=caller.audit_actor, organization=caller.organization,
                 target=client, metadata={"clientId": client.client_id, "grantTypes": grants,
                                          "allowedScopes": client.allowed_scopes, "clientType": client_type,
                                          "accessTokenFormat": client.access_token_format})
    _publish_client_event(client, "oauth_client.created")
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
    rate_limit_per_minute: int | None | EllipsisType = ...,
    access_token_format: str | None = None,
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
    if access_token_format is not None:
        # Tokens already issued keep their form; the new one applies to the next token.
        client.access_token_format = _clean_token_format(access_token_format)
        changed.append("access_token_format")
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
    _publish_client_event(client, "oauth_client.secret_rotated")
    return client, secret


@transaction.atomic
def oauth_client_delete(*, caller: Caller, client: OAuthClient) -> None:
    """Delete a client; its tokens and grants go with it (database cascade), so they fail at once."""
    audit_record(action="oauth_client.deleted", actor=caller.audit_actor, organization=caller.organization,
                 target=client, metadata={"clientId": client.client_id})
    _publish_client_event(client, "oauth_client.deleted")
    client.delete()


@transaction.atomic
def oauth_clients_delete_for_application(*, caller: Caller, application: Application) -> None:
    for client in OAuthClient.objects.filter(application=application, organization=caller.organization):
        oauth_client_delete(caller=caller, client=client)
