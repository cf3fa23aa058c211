"""Reads that span keys and clients: which credentials break the organization's policy."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from apikeys.models import ApiKey
from oauthapps.models import OAuthClient
from policies import rules
from policies.rules import Policy


def policy_violations(organization: Any, policy: Policy) -> list[dict[str, Any]]:
    """``{"type", "id", "name", "breaks", "actions", "object"}`` for every working key and OAuth client that breaks
    ``policy`` (made before it changed). ``actions`` are the ways to comply: rotating a key fixes its lifetime
    and scopes (a rotation keeps the allowed scopes and expires within the limit), not a missing IP range;
    revoking always does."""
    now = timezone.now()
    found: list[dict[str, Any]] = []
    keys = (ApiKey.objects.filter(organization=organization, revoked_at__isnull=True, rotated_at__isnull=True)
            .exclude(expires_at__lte=now).select_related("application").order_by("-created_at", "-id"))
    for key in keys:
        breaks = rules.key_breaks(policy, scopes=key.scopes, environment=key.environment,
                                  allowed_ips=key.allowed_ips, created_at=key.created_at, expires_at=key.expires_at)
        if not breaks:
            continue
        rotation_fixes = "liveKeysNeedIpRanges" not in breaks and bool(
            [s for s in key.scopes if s not in policy.disallowed(key.scopes)])
        found.append({"type": "api_key", "id": key.public_id, "name": key.name, "breaks": breaks,
                      "actions": ["rotate", "revoke"] if rotation_fixes else ["revoke"], "object": key})
    if policy.restricts_scopes:
        clients = OAuthClient.objects.filter(organization=organization, revoked_at__isnull=True).order_by("-id")
        for client in clients:
            breaks = rules.client_breaks(policy, scopes=client.allowed_scopes)
            if breaks:
                found.append({"type": "oauth_client", "id": client.pk, "name": client.name, "breaks": breaks,
                              "actions": ["revoke"], "object": client})
    return found
