"""Writes about memberships: the role a caller manages the team with, changing a member's role, removing a
member (the apps that hold their credentials hear of it by ``accounts.events.membership_ended``)."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from importlib import import_module
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from accounts.api.serializers import MemberOutput
from accounts.events import membership_ended
from accounts.models import Membership, Organization, User
from accounts.roles import Role, can_assign_role, can_manage_members
from audit.services import audit_record
from portal import events
from portal.callers import Caller

logger = logging.getLogger(__name__)
SESSION_CURRENT_ORG = "current_org"  # the organization a session last opened in the dashboard


@functools.cache
def _member_shape() -> Callable[[Any], dict[str, Any]]:
    return events.api_shape(MemberOutput)


def publish_member_event(membership: Membership, event_type: str) -> None:
    """The member as ``GET /api/v1/members`` shows them."""
    events.publish(membership.organization_id, event_type, lambda: _member_shape()(membership))


def team_role(caller: Caller) -> str:
    """The role a caller manages the team with. A person acts with their own role (through the dashboard, a
    session or an OAuth token, never more); staff in the admin and commands act as an owner; a credential of the
    organization itself (an API key or a client's own token, which the API lets in only with ``team:write``) acts
    as an admin."""
    if caller.role is not None:
        return caller.role
    if caller.auth_type == "system":
        return Role.OWNER
    return Role.ADMIN


def require_member_manager(role: str) -> None:
    if not can_manage_members(role):
        raise PermissionDenied("Only owners and admins manage members.")


def validate_role(role: str) -> str:
    if role not in Role.values:
        raise ValidationError({"role": [f"Choose one of: {', '.join(Role.values)}."]})
    return role


def _lock_owners(organization: Organization) -> list[Membership]:
    # Lock the owner rows so two concurrent demotions cannot both pass the last-owner check.
    return list(Membership.objects.select_for_update().filter(organization=organization, role=Role.OWNER))


LAST_OWNER_MESSAGE = "An organization must keep at least one owner. Make someone else an owner first."


@transaction.atomic
def membership_change_role(*, caller: Caller, membership: Membership, role: str) -> Membership:
    acting_role, organization = team_role(caller), caller.organization
    require_member_manager(acting_role)
    role = validate_role(role)
    membership = Membership.objects.select_for_update().select_related("user").get(
        pk=membership.pk, organization=organization
    )
    if not can_assign_role(acting_role, role) or not can_assign_role(acting_role, membership.role):
        raise PermissionDenied("Only owners change who is an owner.")
    if membership.role == role:
        return membership
    if membership.role == Role.OWNER and len(_lock_owners(organization)) <= 1:
        raise ValidationError({"role": [LAST_OWNER_MESSAGE]})
    old_role = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    audit_record(action="member.role_changed", actor=caller.audit_actor, organization=organization, target=membership,
                 target_label=membership.user.email, metadata={"from": old_role, "to": role})
    publish_member_event(membership, "member.role_changed")
    return membership


@transaction.atomic
def membership_remove(*, caller: Caller, membership: Membership, revoke_credentials: bool = False) -> dict[str, int]:
    """Remove a member. Anyone may leave; owners and admins remove others (only owners remove owners).

    Every OAuth token acting as that person for the organization is revoked at once, and their sessions lose the
    organization; with ``revoke_credentials`` the API keys and OAuth clients they made are revoked in the same
    step (contract section 2). Returns what was revoked, as the audit event records it.
    """
    actor, organization = caller.audit_actor, caller.organization
    membership = Membership.objects.select_for_update().select_related("user", "organization").get(
        pk=membership.pk, organization=organization
    )
    leaving = isinstance(actor, User) and membership.user_id == actor.pk
    if not leaving and not can_assign_role(team_role(caller), membership.role):
        raise PermissionDenied("Your role does not allow removing this member.")
    if membership.role == Role.OWNER and len(_lock_owners(organization)) <= 1:
        raise ValidationError(LAST_OWNER_MESSAGE)
    revoked: dict[str, int] = {}
    # Each receiver answers with its counts (accounts.events); django-stubs types a signal's answers as str.
    answers: list[tuple[Any, dict[str, int] | None]] = membership_ended.send(  # type: ignore[assignment]
        sender=Membership, organization=organization, user=membership.user, actor=actor,
        revoke_credentials=revoke_credentials,
    )
    for _receiver, counts in answers:
        revoked.update(counts or {})
    audit_record(action="member.removed", actor=actor, organization=organization, target=membership,
                 target_label=membership.user.email,
                 metadata={"role": membership.role, "left": leaving, "revokedCredentials": revoke_credentials,
                           "revoked": revoked})
    publish_member_event(membership, "member.removed")
    membership.delete()
    _sessions_forget_organization(membership.user, membership.organization.slug)
    return revoked


def _sessions_forget_organization(user: User, slug: str) -> None:
    """The former member's sessions stop acting in the organization (their dashboard and session API calls)."""
    from allauth.usersessions.models import UserSession

    engine = import_module(settings.SESSION_ENGINE)
    for user_session in UserSession.objects.filter(user=user):
        store = engine.SessionStore(user_session.session_key)
        if store.get(SESSION_CURRENT_ORG) == slug:
            store.pop(SESSION_CURRENT_ORG)
            store.save()
