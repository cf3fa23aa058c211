"""Checking an OAuth access token presented to the API: from the shared credential cache, or one indexed query."""

from __future__ import annotations

import time

from django.utils import timezone
from oauth2_provider.models import AccessToken

from accounts.models import Membership, Organization, User
from oauthapps.models import OAuthClient, TokenOrganization
from oauthapps.validators import sha256
from portal import credential_cache
from portal import scopes as scope_registry
from portal.callers import Caller
from portal.rows import db_value, fetch_one, model_from_row

# Tokens are stored as SHA-256 checksums (DOT's RFC 9700 storage), so the lookup is by checksum. The token's
# organization, its client and the client's organization, and for a person's token that person and their
# current role in the organization, all come back in this one query. Written as SQL because it runs on every
# request (see KEY_QUERY in apikeys.verification for the reason and bench/api_bench.py for the figures).
TOKEN_QUERY = f"""
SELECT t.expires, t.scope, t.user_id,
       c.id, c.client_id, c.name, c.organization_id, c.application_id, c.rate_limit_per_minute, c.revoked_at,
       client_org.suspended_at,
       b.organization_id, token_org.suspended_at,
       u.email, u.is_active,
       (SELECT m.role FROM {Membership._meta.db_table} m
         WHERE m.user_id = t.user_id AND m.organization_id = b.organization_id)
  FROM {AccessToken._meta.db_table} t
  JOIN {OAuthClient._meta.db_table} c ON c.id = t.application_id
  JOIN {Organization._meta.db_table} client_org ON client_org.id = c.organization_id
  JOIN {TokenOrganization._meta.db_table} b ON b.access_token_id = t.id
  JOIN {Organization._meta.db_table} token_org ON token_org.id = b.organization_id
  LEFT JOIN {User._meta.db_table} u ON u.id = t.user_id
 WHERE t.token_checksum = %s
"""  # noqa: S608 (names from model metadata; values are bound)


def verify_access_token(token: str) -> Caller | None:
    """The caller for a live access token, or None.

    The token's row comes from the shared credential cache (``portal.credential_cache``) or from one indexed
    query. A revoked token is deleted by DOT, and that deletion, like a change to its client, organizations or
    person, stops the cached row from being served, so revocation holds at once everywhere. A person's token
    never outlives their membership nor exceeds their current role.
    """
    if not token or len(token) > 255:
        return None
    checksum = sha256(token)
    cache = credential_cache.shared()
    hit = cache.fetch("tok", checksum) if cache is not None else None
    if hit is not None:
        return caller_from_row(hit.row)
    read_at = time.monotonic()
    row = fetch_one(TOKEN_QUERY, [checksum])
    caller = caller_from_row(row) if row is not None else None
    if cache is not None and caller is not None:
        user_id, client_pk, client_org_id = row[2], row[3], row[6]
        depends_on = [f"tok:{checksum}", f"client:{client_pk}", f"org:{caller.organization_id}", f"org:{client_org_id}"]
        if user_id is not None:
            depends_on.append(f"user:{user_id}")
        cache.store("tok", checksum, row, read_at=read_at, depends_on=depends_on)
    return caller


def caller_from_row(row) -> Caller | None:
    """The caller for a row of ``TOKEN_QUERY`` (or its cached copy), or None when the token cannot be used."""
    (expires, scope, user_id, client_pk, client_id, client_name, client_org_id, application_id,
     rate_limit, client_revoked_at, client_org_suspended_at, organization_id, organization_suspended_at,
     email, is_active, role) = row
    expires = db_value(AccessToken._meta.get_field("expires"), expires)
    if expires <= timezone.now() or client_revoked_at is not None:
        return None
    if client_org_suspended_at is not None or organization_suspended_at is not None:
        return None
    scopes = set(scope.split())
    user = None
    if user_id is not None:
        if not is_active or role is None:
            return None
        scopes &= set(scope_registry.role_ceiling(role))
        user = model_from_row(User, ("id", "email", "is_active"), (user_id, email, is_active))
    client = model_from_row(
        OAuthClient,
        ("id", "client_id", "name", "organization_id", "application_id", "rate_limit_per_minute"),
        (client_pk, client_id, client_name, client_org_id, application_id, rate_limit),
    )
    return Caller(
        auth_type="oauth2",
        organization_id=organization_id,
        scopes=frozenset(scopes),
        user=user,
        role=role,
        client=client,
        expires_at=expires,
        rate_limit_per_minute=rate_limit,
    )
