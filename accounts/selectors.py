"""Reads of people and organizations. Every read of one organization's data starts with an access check."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from accounts.models import Invitation, Membership, Organization, User
from accounts.roles import role_at_least, role_ceiling
from portal.callers import Caller


def member_caller(organization: Organization, user: User, role: str, auth_type: str = "dashboard") -> Caller:
    """A person acting through the dashboard or a session: their role decides their scopes."""
    return Caller(auth_type=auth_type, organization_id=organization.pk, loaded_organization=organization,
                  user=user, role=role, scopes=frozenset(role_ceiling(role)))


@dataclass(frozen=True)
class OrgAccess:
    """What a person may do in one organization: the result of the one access check."""

    organization: Organization
    membership: Membership

    @property
    def role(self) -> str:
        return self.membership.role

    @property
    def caller(self) -> Caller:
        """The person as services see them: their role in this organization decides their scopes."""
        return member_caller(self.organization, self.membership.user, self.role)


def access_organization_by_slug(user: User, slug: str, *, min_role: str | None = None) -> OrgAccess:
    """The membership of ``user`` in the organization ``slug``.

    Raises ``Http404`` when the organization is missing *or* the user is not a member (the two are
    indistinguishable from outside), and ``PermissionDenied`` when the member's role is below ``min_role``.
    """
    if not user.is_authenticated:
        raise Http404
    membership = (
        Membership.objects.select_related("organization")
        .filter(user=user, organization__slug=slug)
        .first()
    )
    if membership is None:
        raise Http404("No such organization.")
    if min_role is not None and not role_at_least(membership.role, min_role):
        raise PermissionDenied("Your role in this organization does not allow this.")
    return OrgAccess(organization=membership.organization, membership=membership)


def user_memberships(user: User) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user).select_related("organization").order_by("organization__name")


def organization_members(organization: Organization) -> QuerySet[Membership]:
    return Membership.objects.filter(organization=organization).select_related("user").order_by("created_at", "id")


def access_membership_by_id(access: OrgAccess | Caller, membership_id: int) -> Membership:
    """A membership of the caller's organization; another organization's id is a 404."""
    membership = organization_members(access.organization).filter(pk=membership_id).first()
    if membership is None:
        raise Http404("No such member.")
    return membership


def organization_pending_invitations(organization: Organization) -> QuerySet[Invitation]:
    return Invitation.objects.filter(
        organization=organization,
        accepted_at__isnull=True,
        revoked_at__isnull=True,
        expires_at__gt=timezone.now(),
    ).select_related("invited_by")


def access_invitation_by_id(access: OrgAccess, invitation_id: int) -> Invitation:
    invitation = Invitation.objects.filter(organization=access.organization, pk=invitation_id).first()
    if invitation is None:
        raise Http404("No such invitation.")
    return invitation


def owner_count(organization: Organization) -> int:
    return Membership.objects.filter(organization=organization, role="owner").count()
