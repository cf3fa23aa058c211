"""The credential policy's rules, pure: given a policy and what a credential asks for, allowed or a
``ValidationError`` naming the field and the limit (the API renders it as a 400 ``VALIDATION_ERROR`` whose
``details`` key is the camelCase field). No models, no queries: ``apikeys`` and ``oauthapps`` call these from
their services, and ``security`` from its violations list, so every path applies one rule.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError

from portal import scopes as scope_registry

LIFETIME_RANGE = (1, 365)
UNUSED_RANGE = (30, 365)
# Keys made just before a limit was set may end a few seconds past it: not a breach.
LIFETIME_SLACK = timedelta(minutes=5)


@dataclass(frozen=True)
class Policy:
    max_key_lifetime_days: int | None = None
    allowed_scopes: tuple[str, ...] | None = None  # None: every scope of the registry
    live_keys_need_ip_ranges: bool = False
    revoke_unused_keys_after_days: int | None = None

    @property
    def restricts_scopes(self) -> bool:
        return self.allowed_scopes is not None and set(self.allowed_scopes) != set(scope_registry.registry())

    def allowed_scope_list(self) -> list[str]:
        """The allowed scopes in registry order (every one when the policy names none)."""
        registry = scope_registry.registry()
        if self.allowed_scopes is None:
            return list(registry)
        allowed = set(self.allowed_scopes)
        return [s for s in registry if s in allowed]

    def disallowed(self, scopes: Iterable[str]) -> list[str]:
        """The scopes of ``scopes`` the policy does not allow (``admin`` only where every scope is allowed)."""
        if self.allowed_scopes is None:
            return []
        allowed = set(self.allowed_scopes)
        return [s for s in scopes if s not in allowed]

    def as_api(self) -> dict:
        return {
            "maxKeyLifetimeDays": self.max_key_lifetime_days,
            "allowedScopes": self.allowed_scope_list(),
            "liveKeysNeedIpRanges": self.live_keys_need_ip_ranges,
            "revokeUnusedKeysAfterDays": self.revoke_unused_keys_after_days,
        }


DEFAULT_POLICY = Policy()


def _days_in_range(field: str, value: object, low: int, high: int) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValidationError({field: [f"Give a whole number of days from {low} to {high}, or null."]})
    return value


def clean_policy(*, max_key_lifetime_days: object, allowed_scopes: object, live_keys_need_ip_ranges: object,
                 revoke_unused_keys_after_days: object) -> Policy:
    """A policy from what a person asked for, or a ``ValidationError`` naming each bad field."""
    errors: dict[str, list[str]] = {}
    max_days: int | None = None
    unused_days: int | None = None
    try:
        max_days = _days_in_range("max_key_lifetime_days", max_key_lifetime_days, *LIFETIME_RANGE)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    try:
        unused_days = _days_in_range("revoke_unused_keys_after_days", revoke_unused_keys_after_days, *UNUSED_RANGE)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if not isinstance(live_keys_need_ip_ranges, bool):
        errors["live_keys_need_ip_ranges"] = ["Give true or false."]
    scopes: tuple[str, ...] | None = None
    try:
        scopes = clean_allowed_scopes(allowed_scopes)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    assert isinstance(live_keys_need_ip_ranges, bool)  # a non-bool was an error above
    return Policy(max_key_lifetime_days=max_days, allowed_scopes=scopes,
                  live_keys_need_ip_ranges=live_keys_need_ip_ranges, revoke_unused_keys_after_days=unused_days)


def clean_allowed_scopes(value: object) -> tuple[str, ...] | None:
    """A subset of the registry (``None`` or every scope: no restriction). ``admin`` implies every scope, so it
    may be listed only with all the others."""
    if value is None:
        return None
    if not isinstance(value, list | tuple) or not all(isinstance(s, str) for s in value):
        raise ValidationError({"allowed_scopes": ["Give a list of scope names."]})
    try:
        scopes = scope_registry.normalize(value)
    except scope_registry.ScopeError as exc:
        raise ValidationError({"allowed_scopes": [str(exc)]}) from None
    registry = list(scope_registry.registry())
    # OpenID Connect's scopes say who a person is, not what a credential may do in the organization: leaving
    # them out does not take anything from ``admin``.
    left_out = [s for s in registry if s not in scopes and s != scope_registry.ADMIN_SCOPE
                and s not in scope_registry.IDENTITY_SCOPES]
    if scope_registry.ADMIN_SCOPE in scopes and left_out:
        raise ValidationError({"allowed_scopes": [
            f"admin implies every scope, so it cannot be allowed while {', '.join(left_out)} "
            f"{'is' if len(left_out) == 1 else 'are'} left out: remove admin or allow every scope."]})
    if set(scopes) == set(registry):
        return None
    return tuple(scopes)


# Checks of a credential against a policy ----------------------------------------------------------------------


def _scope_message(policy: Policy, refused: list[str], preset: str | None = None) -> str:
    what = f"The preset {preset} holds" if preset else "You asked for"
    allowed = ", ".join(policy.allowed_scope_list()) or "none"
    return (f"{what} {', '.join(refused)}, which this organization's policy does not allow "
            f"(allowed scopes: {allowed}).")


def check_key_scopes(policy: Policy, scopes: Iterable[str], *, preset: str | None = None,
                     preset_scopes: Iterable[str] = ()) -> None:
    """A preset holding a disallowed scope is refused as a whole (never cut), on ``scope_preset``; explicit
    scopes on ``scopes``."""
    if preset:
        refused = policy.disallowed(preset_scopes)
        if refused:
            raise ValidationError({"scope_preset": [_scope_message(policy, refused, preset)]})
    refused = policy.disallowed(scopes)
    if refused:
        raise ValidationError({"scopes": [_scope_message(policy, refused)]})


def lifetime_message(limit: int) -> str:
    return (f"This organization's policy limits keys to {limit} days: give expiresInDays from 1 to {limit} "
            f"(at most {limit} days).")


def check_key_expiry(policy: Policy, expires_in_days: int | None) -> None:
    limit = policy.max_key_lifetime_days
    if limit is not None and (expires_in_days is None or expires_in_days > limit):
        raise ValidationError({"expires_in_days": [lifetime_message(limit)]})


def check_key_ips(policy: Policy, environment: str, allowed_ips: list[str] | None) -> None:
    if policy.live_keys_need_ip_ranges and environment == "live" and not allowed_ips:
        raise ValidationError({"allowed_ips": [
            "This organization's policy requires live keys to list allowed IP ranges (allowedIps)."]})


def check_client_scopes(policy: Policy, scopes: Iterable[str]) -> None:
    refused = policy.disallowed(scopes)
    if refused:
        raise ValidationError({"allowed_scopes": [_scope_message(policy, refused)]})


def rotated_expiry(policy: Policy, old_expiry: datetime | None, now: datetime) -> datetime | None:
    """The earlier of the old key's expiry and the limit from now (the old expiry alone without a limit)."""
    if policy.max_key_lifetime_days is None:
        return old_expiry
    limit = now + timedelta(days=policy.max_key_lifetime_days)
    return limit if old_expiry is None else min(old_expiry, limit)


def kept_scopes(policy: Policy, scopes: Iterable[str]) -> list[str]:
    """What a rotation keeps of a key's scopes: the allowed ones. A ``ValidationError`` if none remain."""
    scopes = list(scopes)
    kept = [s for s in scopes if s not in policy.disallowed(scopes)]
    if not kept:
        raise ValidationError({"scopes": [
            f"None of this key's scopes ({', '.join(scopes)}) is allowed by the organization's policy any more: "
            "make a new key instead."]})
    return kept


def key_breaks(policy: Policy, *, scopes: Iterable[str], environment: str, allowed_ips: list[str],
               created_at: datetime, expires_at: datetime | None) -> list[str]:
    """The policy fields an existing key breaks (it was made before the policy changed)."""
    breaks = []
    limit = policy.max_key_lifetime_days
    if limit is not None and (expires_at is None or expires_at - created_at > timedelta(days=limit) + LIFETIME_SLACK):
        breaks.append("maxKeyLifetimeDays")
    if policy.disallowed(scopes):
        breaks.append("allowedScopes")
    if policy.live_keys_need_ip_ranges and environment == "live" and not allowed_ips:
        breaks.append("liveKeysNeedIpRanges")
    return breaks


def client_breaks(policy: Policy, *, scopes: Iterable[str]) -> list[str]:
    return ["allowedScopes"] if policy.disallowed(scopes) else []
