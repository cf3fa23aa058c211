"""Reading an organization's credential policy."""

from __future__ import annotations

from policies.models import CredentialPolicy
from policies.rules import DEFAULT_POLICY, Policy


def as_policy(row: CredentialPolicy | None) -> Policy:
    if row is None:
        return DEFAULT_POLICY
    return Policy(
        max_key_lifetime_days=row.max_key_lifetime_days,
        allowed_scopes=tuple(row.allowed_scopes) if row.allowed_scopes is not None else None,
        live_keys_need_ip_ranges=row.live_keys_need_ip_ranges,
        revoke_unused_keys_after_days=row.revoke_unused_keys_after_days,
    )


def policy_for(organization_id: int) -> Policy:
    """The organization's policy (one query; the defaults where it has set none)."""
    return as_policy(CredentialPolicy.objects.filter(organization_id=organization_id).first())
