"""Checking an OAuth access token presented to the API: from the shared credential cache, or one indexed query."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from oauth2_provider.models import AccessToken

from accounts.models import Membership, Organization, User
from accounts.roles import role_ceiling
from oauthapps.models import OAuthClient, TokenOrganization
from portal.callers import Caller
from portal.credential_cache import dependency, verified_row
from portal.hashing import sha256
from portal.row_loader import db_value, model_from_row

# Tokens are stored as SHA-256 checksums (DOT's RFC 9700 storage), so the lookup is by checksum. The token's
# organization, its client and the client's organization, and for a person's token that person and their
# current role in the organization, all come back in this one query, read by the names in TOKEN_COLUMNS. Written
# as SQL because without the credential cache it runs on every request (``portal.credential_cache`` says why).
TOKEN_COLUMNS = (
    "expires", "scope", "user_id",
    "client_pk", "client_id", "client_name", "client_organization_id", "application_id", "rate_limit_per_minute",
    "client_revoked_at", "client_organization_suspended_at",
    "organization_id", "organization_suspended_at",
    "email", "is_active", "role",
)
TOKEN_QUERY = f"""
SELECT t.expires, t.scope, t.user_id,
       c.id, c.client_id, c.name, c.organization_id, c.application_id, c.rate_limit_per_minute,
       c.revoked_at, client_org.suspended_at,
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


# Opaque tokens are 30 characters; RFC 9068 JWTs (oauthapps.jwt_tokens) about 800. Longer is not a token.
MAX_TOKEN_LENGTH = 4096


def verify_access_token(token: str) -> Caller | None:
    """The caller for a live access token, or None.

    The token's row comes from this process's credential cache (``portal.credential_cache``) or from one indexed
    query. A revoked token is deleted by DOT, and that deletion, like a change to its client, organizations or
    person, makes every process forget the row, so revocation holds at once everywhere. A person's token never
    outlives their membership nor exceeds their current role.
    """
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    checksum = sha256(token)
    row, _cached = verified_row("tok", checksum, query=TOKEN_QUERY, columns=TOKEN_COLUMNS,
                                depends_on=lambda row: token_dependencies(checksum, row))
    return caller_from_row(row) if row is not None else None


def token_dependencies(checksum: str, row: dict[str, Any]) -> list[str]:
    """What a cached token depends on: itself, its client, both organizations and, for a person's token, them."""
    depends_on = [dependency("tok", checksum), dependency("client", row["client_pk"]),
                  dependency("org", row["organization_id"]), dependency("org", row["client_organization_id"])]
    if row["user_id"] is not None:
        depends_on.append(dependency("user", row["user_id"]))
    return depends_on


def caller_from_row(row: dict[str, Any]) -> Caller | None:
    """The caller for a row of ``TOKEN_QUERY`` (or its cached copy), or None when the token cannot be used."""
    expires = db_value(AccessToken._meta.get_field("expires"), row["expires"])
    if expires <= timezone.now() or row["client_revoked_at"] is not None:
        return None
    if row["client_organization_suspended_at"] is not None or row["organization_suspended_at"] is not None:
        return None
    scopes = set(row["scope"].split())
    user, role = None, row["role"]
    if row["user_id"] is not None:
        if not row["is_active"] or role is None:
            return None
        scopes &= set(role_ceiling(role))
        user = model_from_row(User, {"id": row["user_id"], "email": row["email"], "is_active": row["is_active"]})
    client = model_from_row(OAuthClient, {
        "id": row["client_pk"], "client_id": row["client_id"], "name": row["client_name"],
        "organization_id": row["client_organization_id"], "application_id": row["application_id"],
        "rate_limit_per_minute": row["rate_limit_per_minute"],
    })
    return Caller(
        auth_type="oauth2",
        organization_id=row["organization_id"],
        scopes=frozenset(scopes),
        user=user,
        role=role,
        client=client,
        expires_at=expires,
        rate_limit_per_minute=row["rate_limit_per_minute"],
    )
