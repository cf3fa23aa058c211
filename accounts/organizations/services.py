"""Writes about organizations: creating one (its first owner), suspending and reinstating it, its two-factor
policy."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from accounts.memberships.services import publish_member_event, team_role
from accounts.models import Membership, Organization, User
from accounts.roles import Role
from accounts.two_factor import has_second_factor
from audit.services import audit_record
from portal.callers import Caller


def _unique_slug(name: str, slug: str | None = None) -> str:
    if slug:
        slug = slugify(slug)[:60]
        if not slug:
            raise ValidationError({"slug": ["Use letters, numbers and hyphens."]})
        if Organization.objects.filter(slug=slug).exists():
            raise ValidationError({"slug": [f"The slug {slug!r} is taken."]})
        return slug
    base = slugify(name)[:50] or "org"
    candidate, n = base, 1
    while Organization.objects.filter(slug=candidate).exists():
        n += 1
        candidate = f"{base}-{n}"
    return candidate


@transaction.atomic
def organization_create(*, caller: Caller, name: str, owner: User, slug: str | None = None,
                        is_personal: bool = False) -> Organization:
    """A new organization with ``owner`` as its first owner. Made outside any organization: ``caller`` is the person
    (their own personal organization, or the dashboard's form) or ``Caller.system()`` (staff, a command)."""
    actor = caller.audit_actor
    name = name.strip()
    if not name:
        raise ValidationError({"name": ["Give the organization a name."]})
    organization = Organization.objects.create(name=name, slug=_unique_slug(name, slug), is_personal=is_personal)
    membership = Membership.objects.create(organization=organization, user=owner, role=Role.OWNER)
    audit_record(action="organization.created", actor=actor, organization=organization, target=organization,
                 metadata={"slug": organization.slug})
    audit_record(action="member.added", actor=actor, organization=organization, target=membership,
                 target_label=owner.email, metadata={"role": Role.OWNER})
    publish_member_event(membership, "member.added")
    return organization


def _locked_organization(caller: Caller) -> Organization:
    """``caller``'s organization, locked for the change; a caller outside every organization has none to change."""
    if caller.organization_id is None:
        raise PermissionDenied("Act in an organization to change it.")
    return Organization.objects.select_for_update().get(pk=caller.organization_id)


@transaction.atomic
def organization_suspend(*, caller: Caller, reason: str = "") -> Organization:
    """Suspend ``caller.organization`` (staff: ``Caller.system(organization, actor=staff)``): every credential of
    the organization fails until it is reinstated."""
    actor = caller.audit_actor
    organization = _locked_organization(caller)
    if organization.suspended_at is None:
        organization.suspended_at = timezone.now()
        organization.save(update_fields=["suspended_at"])
        audit_record(action="organization.suspended", actor=actor, organization=organization,
                     target=organization, metadata={"reason": reason} if reason else {})
    return organization


@transaction.atomic
def organization_reinstate(*, caller: Caller) -> Organization:
    actor = caller.audit_actor
    organization = _locked_organization(caller)
    if organization.suspended_at is not None:
        organization.suspended_at = None
        organization.save(update_fields=["suspended_at"])
        audit_record(action="organization.reinstated", actor=actor, organization=organization, target=organization)
    return organization


@transaction.atomic
def organization_require_two_factor(*, caller: Caller, required: bool) -> Organization:
    """Owners require (or stop requiring) two-factor of every member. An owner must have a second factor to turn
    it on, so that nobody locks the organization away from its own owner."""
    if team_role(caller) != Role.OWNER:
        raise PermissionDenied("Only owners change the organization's security policy.")
    actor = caller.audit_actor
    if required and caller.auth_type != "system" and not (isinstance(caller.user, User)
                                                               and has_second_factor(caller.user)):
        raise ValidationError("Set up two-factor authentication for yourself first.")
    organization = _locked_organization(caller)
    if organization.require_two_factor != required:
        organization.require_two_factor = required
        organization.save(update_fields=["require_two_factor"])
        audit_record(action="organization.policy_changed", actor=actor, organization=organization,
                     target=organization, metadata={"requireTwoFactor": required})
    return organization
