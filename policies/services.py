"""Changing an organization's credential policy: audited with its before and after, and revoking nothing."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from audit.services import audit_record
from policies.models import CredentialPolicy
from policies.rules import Policy, clean_policy
from policies.selectors import as_policy
from portal.callers import Caller


@transaction.atomic
def credential_policy_update(*, caller: Caller, max_key_lifetime_days: object, allowed_scopes: object,
                             live_keys_need_ip_ranges: object, revoke_unused_keys_after_days: object) -> Policy:
    """Set all four fields at once. Credentials made before keep what they hold until rotated or revoked; those
    that break the new policy show up in its violations (``security.selectors``)."""
    policy = clean_policy(max_key_lifetime_days=max_key_lifetime_days, allowed_scopes=allowed_scopes,
                          live_keys_need_ip_ranges=live_keys_need_ip_ranges,
                          revoke_unused_keys_after_days=revoke_unused_keys_after_days)
    organization = caller.organization
    row = CredentialPolicy.objects.select_for_update().filter(organization=organization).first()
    before = as_policy(row)
    if row is None:
        row = CredentialPolicy(organization=organization)
    row.max_key_lifetime_days = policy.max_key_lifetime_days
    row.allowed_scopes = list(policy.allowed_scopes) if policy.allowed_scopes is not None else None
    row.live_keys_need_ip_ranges = policy.live_keys_need_ip_ranges
    row.revoke_unused_keys_after_days = policy.revoke_unused_keys_after_days
    row.updated_at = timezone.now()
    row.save()
    if before != policy:
        audit_record(action="organization.policy_changed", actor=caller.audit_actor, organization=organization,
                     target=organization, metadata={"before": before.as_api(), "after": policy.as_api()})
    return policy
