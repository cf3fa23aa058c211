"""Checking an OAuth access token presented to the API: one indexed query, joins included."""

from __future__ import annotations

import hashlib

from django.db.models import OuterRef, Subquery
from django.utils import timezone
from oauth2_provider.models import AccessToken

from accounts.models import Membership
from portal import scopes as scope_registry
from portal.callers import Caller


def verify_access_token(token: str) -> Caller | None:
    """The caller for a live access token, or None.

    Tokens are stored as SHA-256 checksums (DOT's RFC 9700 storage), so the lookup is by checksum. The
    token's organization, its client, the client's organization and, for a person's token, that person's
    current role in the organization come back in the same query. A revoked token is deleted by DOT, so
    revocation holds at once everywhere; nothing is cached.
    """
    if not token or len(token) > 255:
        return None
    checksum = hashlib.sha256(token.encode()).hexdigest()
    role = Membership.objects.filter(
        user=OuterRef("user_id"), organization=OuterRef("binding__organization_id")
    ).values("role")[:1]
    access_token = (
        AccessToken.objects.select_related(
            "application", "application__organization", "application__application", "user",
            "binding__organization",
        )
        .annotate(member_role=Subquery(role))
        .filter(token_checksum=checksum)
        .first()
    )
    if access_token is None or access_token.expires <= timezone.now():
        return None
    client = access_token.application
    binding = getattr(access_token, "binding", None)
    if client is None or binding is None or client.revoked_at is not None:
        return None
    organization = binding.organization
    if organization.suspended_at is not None or client.organization.suspended_at is not None:
        return None
    scopes = set(access_token.scope.split())
    user = access_token.user
    if user is not None:
        # A person's token never outlives their membership, nor exceeds their current role.
        if not user.is_active or access_token.member_role is None:
            return None
        scopes &= set(scope_registry.role_ceiling(access_token.member_role))
    return Caller(
        auth_type="oauth2",
        organization=organization,
        scopes=frozenset(scopes),
        user=user,
        role=access_token.member_role,
        credential=access_token,
        application=client.application,
        client=client,
        expires_at=access_token.expires,
        rate_limit_per_minute=client.rate_limit_per_minute,
    )
