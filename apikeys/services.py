"""Every write to API keys. Each one audits itself in its own transaction."""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.verification import require_verified_email
from apikeys import crypto
from apikeys.models import ApiKey
from apikeys.validators import allowed_ip_ranges
from applications.models import Application
from applications.services import application_get_or_create_default
from audit.services import audit_record
from policies import rules as policy_rules
from policies.rules import Policy
from policies.selectors import policy_for
from portal import events
from portal import scopes as scope_registry
from portal.callers import Caller
from portal.conf import portal_settings
from portal.housekeeping import Progress, purge
from portal.validators import clean_rate_limit

logger = logging.getLogger(__name__)


@functools.cache
def _key_shape() -> Callable[[Any], dict[str, Any]]:
    from apikeys.api.serializers import ApiKeyOutput

    return events.api_shape(ApiKeyOutput)


def _publish_key_event(key: ApiKey, event_type: str, **extra: object) -> None:
    """The key as ``GET /api/v1/api-keys/{id}`` shows it (built only if a webhook endpoint wants it)."""
    events.publish(key.organization_id, event_type, lambda: {**_key_shape()(key), **extra})


NAME_MAX_LENGTH = 120
# One or more " (rotated YYYY-MM-DD)" at the end: a replacement rotated again is named from the base name.
ROTATED_SUFFIX = re.compile(r"(?: \(rotated \d{4}-\d{2}-\d{2}\))+$")


def _clean_name(name: str | None) -> str:
    name = (name or "").strip()
    if not name or len(name) > NAME_MAX_LENGTH:
        raise ValidationError({"name": [f"Give the key a name of 1 to {NAME_MAX_LENGTH} characters."]})
    return name


def rotated_name(name: str, day: date) -> str:
    """What a replacement is called unless the person names it: ``<base name> (rotated YYYY-MM-DD)``."""
    suffix = f" (rotated {day:%Y-%m-%d})"
    base = ROTATED_SUFFIX.sub("", name).strip() or name
    return base[: NAME_MAX_LENGTH - len(suffix)].rstrip() + suffix


def _clean_expiry(caller: Caller, expires_in_days: int | None, policy: Policy = policy_rules.DEFAULT_POLICY,
                  ) -> datetime | None:
    if not isinstance(expires_in_days, bool) and isinstance(expires_in_days, int | None):
        policy_rules.check_key_expiry(policy, expires_in_days)  # the organization's limit (section 19)
    if expires_in_days is None:
        if not caller.organization.allow_keys_without_expiry:
            raise ValidationError({"expires_in_days": ["This organization requires keys to expire: give 1 to 365."]})
        return None
    if isinstance(expires_in_days, bool) or not isinstance(expires_in_days, int):
        raise ValidationError({"expires_in_days": ["Give a whole number of days."]})
    maximum = portal_settings.KEY_MAX_EXPIRY_DAYS
    if not 1 <= expires_in_days <= maximum:
        raise ValidationError({"expires_in_days": [f"Give a number of days from 1 to {maximum}."]})
    return timezone.now() + timedelta(days=expires_in_days)


def clean_allowed_ips(values: list[str] | None) -> list[str]:
    """CIDR ranges (IPv4 or IPv6), in canonical form; a range with host bits set is refused (``validators``)."""
    try:
        return allowed_ip_ranges(values)
    except ValidationError as exc:
        raise ValidationError({"allowed_ips": exc.messages}) from None


def _resolve_scopes(caller: Caller, preset: str | None, scopes: list[str] | None,
                    policy: Policy = policy_rules.DEFAULT_POLICY) -> list[str]:
    if not preset and not scopes:
        raise ValidationError({"scopes": ["Choose a scope preset or at least one scope."]})
    try:
        resolved = scope_registry.resolve(preset=preset, scopes=scopes)
    except scope_registry.ScopeError as exc:
        field = "scope_preset" if preset and preset in exc.unknown else "scopes"
        raise ValidationError({field: [str(exc)]}) from None
    # The organization's allowed scopes (section 19): a preset holding another is refused whole, never cut.
    policy_rules.check_key_scopes(policy, scope_registry.normalize(scopes or []), preset=preset,
                                  preset_scopes=scope_registry.presets().get(preset or "", []))
    scope_registry.check_grantable(caller.scopes, resolved)
    return resolved


def _creator_fields(caller: Caller) -> dict[str, Any]:
    label = str(caller.audit_actor) if caller.audit_actor is not None else "system"
    return {"created_by": caller.person, "created_by_label": label[:255]}


@transaction.atomic
def api_key_create(
    *,
    caller: Caller,
    application: Application,
    name: str,
    scope_preset: str | None = None,
    scopes: list[str] | None = None,
    expires_in_days: int | None = None,
    environment: str = ApiKey.Environment.LIVE,
    rate_limit_per_minute: int | None = None,
    allowed_ips: list[str] | None = None,
) -> tuple[ApiKey, str]:
    """Make a key. Returns ``(key, plaintext)``: the plaintext exists only here, once.

    Raises ``ValidationError`` for bad input and ``ScopeEscalation`` for scopes the caller lacks.
    """
    if application.organization_id != caller.organization.pk:
        raise ValidationError({"application_id": ["No such application."]})
    name = _clean_name(name)
    if environment not in ApiKey.Environment.values:
        raise ValidationError({"environment": ["Choose live or test."]})
    if environment == ApiKey.Environment.LIVE:
        require_verified_email(caller, "a live key")
    policy = policy_for(caller.organization.pk)
    resolved_scopes = _resolve_scopes(caller, scope_preset, scopes, policy)
    clean_ips = clean_allowed_ips(allowed_ips)
    fields = {
        "expires_at": _clean_expiry(caller, expires_in_days, policy),
        "rate_limit_per_minute": clean_rate_limit(rate_limit_per_minute),
        "allowed_ips": clean_ips,
    }
    policy_rules.check_key_ips(policy, environment, clean_ips)
    key, plaintext = _insert_key(caller=caller, application=application, name=name, environment=environment,
                                 scopes=resolved_scopes, **fields)
    audit_record(action="api_key.created", actor=caller.audit_actor, organization=caller.organization, target=key,
                 metadata={"publicId": key.public_id, "scopes": resolved_scopes, "environment": environment,
                           "application": application.name})
    _publish_key_event(key, "api_key.created")
    return key, plaintext


def _insert_key(*, caller: Caller, application: Application, **fields: Any) -> tuple[ApiKey, str]:
    prefix = portal_settings.KEY_PREFIX
    for _attempt in range(3):  # a public-id collision is astronomically rare; retry rather than fail
        plaintext, public_id = crypto.generate_key(prefix=prefix, environment=fields["environment"])
        try:
            with transaction.atomic():
                key = ApiKey.objects.create(
                    organization=caller.organization, application=application, public_id=public_id,
                    prefix=prefix, key_hash=crypto.hash_key(plaintext), **_creator_fields(caller), **fields,
                )
            return key, plaintext
        except IntegrityError:
            logger.warning("API key public id collision; generating another")
    raise RuntimeError("Could not generate a unique API key id")


@transaction.atomic
def api_key_revoke(*, caller: Caller, key: ApiKey, reason: str = "") -> ApiKey:
    """Revoke at once: the next request with the key fails on every worker (the save stops any cached copy,
    ``apikeys.signals``)."""
    key = ApiKey.objects.select_for_update().get(pk=key.pk, organization=caller.organization)
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
        audit_record(action="api_key.revoked", actor=caller.audit_actor, organization=caller.organization,
                     target=key, metadata={"publicId": key.public_id, **({"reason": reason} if reason else {})})
        _publish_key_event(key, "api_key.revoked")
    return key


@transaction.atomic
def api_keys_revoke_for_application(*, caller: Caller, application: Application, reason: str = "") -> None:
    """Revoke every live key of ``application`` (each audited): what deleting the application does first."""
    for key in application.api_keys.filter(revoked_at__isnull=True):
        api_key_revoke(caller=caller, key=key, reason=reason)


@transaction.atomic
def api_key_rotate(*, caller: Caller, key: ApiKey, grace_period_hours: int | None = None,
                   name: str | None = None, scopes: list[str] | None = None) -> tuple[ApiKey, str]:
    """Issue a replacement (shown once) with the same settings; the old key lives on for the grace period.

    The replacement is called ``name``, or ``<name> (rotated <today>)``. A key whose replacement was revoked or
    expired while it was still in its grace period may be rotated again: the new replacement takes the failed
    one's place, and the grace period starts again from now (never beyond the key's expiry before rotation).

    The organization's policy (section 19) applies: the replacement keeps only the scopes it allows (a 400 if none
    remain) and expires at the earlier of the old key's expiry and the policy's limit from now. ``scopes``, a
    subset of the key's, narrows the replacement further ("Narrow to what it used").
    """
    if grace_period_hours is None:
        grace_period_hours = portal_settings.KEY_ROTATION_GRACE_HOURS
    maximum = portal_settings.KEY_ROTATION_MAX_GRACE_HOURS
    if isinstance(grace_period_hours, bool) or not isinstance(grace_period_hours, int) \
            or not 0 <= grace_period_hours <= maximum:
        raise ValidationError({"grace_period_hours": [f"Give a number of hours from 0 to {maximum}."]})
    now = timezone.now()
    new_name = rotated_name(key.name, now.date()) if name is None else _clean_name(name)
    # The replacement is an outer join: PostgreSQL locks no nullable side of one, so lock the key's row only.
    key = ApiKey.objects.select_for_update(of=("self",)).select_related("application", "replaced_by").get(
        pk=key.pk, organization=caller.organization
    )
    if not key.can_be_rotated:
        if key.is_usable:
            assert key.replaced_by is not None  # a working key that cannot be rotated has a working replacement
            raise ValidationError({"key": [f"This key is already replaced by {key.replaced_by.public_id}, which "
                                           "works: rotate that one instead."]})
        raise ValidationError({"key": [f"Only an active key can be rotated; this one is {key.status}."]})
    policy = policy_for(caller.organization.pk)
    new_scopes = policy_rules.kept_scopes(policy, key.scopes)
    if scopes is not None:
        narrowed = [s for s in new_scopes if s in set(scopes)]
        if not narrowed or set(scopes) - set(key.scopes):
            raise ValidationError({"scopes": ["Give some of the key's own scopes."]})
        new_scopes = narrowed
    policy_rules.check_key_ips(policy, key.environment, key.allowed_ips)
    scope_registry.check_grantable(caller.scopes, new_scopes)
    failed_replacement = key.replaced_by.public_id if key.replaced_by is not None else None
    if key.rotated_at is None:
        key.expires_at_before_rotation = key.expires_at
    new_key, plaintext = _insert_key(
        caller=caller, application=key.application, name=new_name, environment=key.environment,
        scopes=new_scopes, expires_at=_rotated_expiry(key, now, policy),
        rate_limit_per_minute=key.rate_limit_per_minute,
        allowed_ips=key.allowed_ips,
    )
    grace_end = now + timedelta(hours=grace_period_hours)
    before = key.expires_at_before_rotation
    key.rotated_at = now
    key.replaced_by = new_key
    key.expires_at = min(before, grace_end) if before else grace_end
    key.save(update_fields=["rotated_at", "replaced_by", "expires_at", "expires_at_before_rotation"])
    metadata = {"publicId": key.public_id, "newPublicId": new_key.public_id, "newName": new_key.name,
                "gracePeriodHours": grace_period_hours}
    if new_scopes != list(key.scopes):
        metadata["scopesRemoved"] = [s for s in key.scopes if s not in new_scopes]
    if failed_replacement:
        metadata["failedReplacementId"] = failed_replacement
    audit_record(action="api_key.rotated", actor=caller.audit_actor, organization=caller.organization, target=key,
                 metadata=metadata)
    _publish_key_event(new_key, "api_key.rotated", rotatedKeyId=key.public_id)
    return new_key, plaintext


@transaction.atomic
def api_key_keep(*, caller: Caller, key: ApiKey) -> ApiKey:
    """End a rotation whose replacement failed: the old key goes back to how it was before (no grace period, its
    former expiry), as if it had never been rotated. Only while it still works: an expired key stays expired."""
    key = ApiKey.objects.select_for_update(of=("self",)).select_related("replaced_by").get(
        pk=key.pk, organization=caller.organization
    )
    if not key.can_keep:
        raise ValidationError({"key": ["Only a key in its grace period whose replacement was revoked or expired can "
                                       "be kept."]})
    assert key.replaced_by is not None  # can_keep: its replacement failed
    failed_replacement = key.replaced_by.public_id
    key.expires_at = key.expires_at_before_rotation
    key.expires_at_before_rotation = None
    key.rotated_at = None
    key.replaced_by = None
    key.save(update_fields=["expires_at", "expires_at_before_rotation", "rotated_at", "replaced_by"])
    audit_record(action="api_key.rotation_cancelled", actor=caller.audit_actor, organization=caller.organization,
                 target=key, metadata={"publicId": key.public_id, "failedReplacementId": failed_replacement,
                                       "expiresAt": key.expires_at.isoformat() if key.expires_at else None})
    return key


def _rotated_expiry(key: ApiKey, now: datetime, policy: Policy = policy_rules.DEFAULT_POLICY) -> datetime | None:
    """The new key keeps the old one's lifetime (before any rotation cut it short), counted from now; under a
    policy's lifetime limit, the earlier of the old key's expiry and the limit from now."""
    lifetime_end = key.expires_at_before_rotation if key.rotated_at is not None else key.expires_at
    if policy.max_key_lifetime_days is not None:
        return policy_rules.rotated_expiry(policy, lifetime_end, now)
    if lifetime_end is None:
        return None
    return now + (lifetime_end - key.created_at)


# Housekeeping -----------------------------------------------------------------------------------------------

DEAD_KEY_RETENTION = timedelta(days=90)


def api_keys_purge_expired(*, batch_size: int = 1000, now: datetime | None = None,
                           progress: Progress | None = None) -> dict[str, int]:
    """Remove keys that expired or were revoked more than 90 days ago, in batches (lists and audit events keep
    their public id). Returns ``{"api keys": removed}``."""
    cutoff = (now or timezone.now()) - DEAD_KEY_RETENTION
    dead = ApiKey.objects.filter(Q(expires_at__lt=cutoff) | Q(revoked_at__lt=cutoff))
    return purge([("api keys", dead)], batch_size=batch_size, progress=progress)


QUICK_START_APPLICATION = "Default"
QUICK_START_KEY_NAME = "Quick start"


@transaction.atomic
def quick_start_key_create(*, caller: Caller) -> tuple[ApiKey, str]:
    """The overview's first call in one click: the ``Default`` application (the one there is, or a new one) and a
    ``test`` key with the ``READ_ONLY`` preset, each made and audited by the same services as anywhere else. A test
    key needs no verified address. Returns ``(key, plaintext)``."""
    application = application_get_or_create_default(caller=caller, name=QUICK_START_APPLICATION)
    days = min(portal_settings.KEY_DEFAULT_EXPIRY_DAYS, portal_settings.KEY_MAX_EXPIRY_DAYS)
    # Within the organization's lifetime limit (section 19); a policy that leaves out a READ_ONLY scope refuses.
    limit = policy_for(caller.organization.pk).max_key_lifetime_days
    if limit is not None:
        days = min(days, limit)
    return api_key_create(caller=caller, application=application, name=QUICK_START_KEY_NAME,
                          scope_preset="READ_ONLY", expires_in_days=days, environment=ApiKey.Environment.TEST)
