"""Reads of people and organizations. Every read of one organization's data starts with an access check."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from accounts.http import AuthenticatedHttpRequest
from accounts.models import Invitation, Membership, Organization, User
from accounts.roles import Role, role_at_least, role_ceiling
from accounts.two_factor import require_two_factor_for
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
    indistinguishable from outside), ``TwoFactorRequired`` when the organization requires a second factor the
    user has not set up, and ``PermissionDenied`` when the member's role is below ``min_role``.
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
    require_two_factor_for(membership.organization, user)
    if min_role is not None and not role_at_least(membership.role, min_role):
        raise PermissionDenied("Your role in this organization does not allow this.")
    return OrgAccess(organization=membership.organization, membership=membership)


def access_organization_to_read_or_change(request: AuthenticatedHttpRequest, slug: str) -> OrgAccess:
    """A page of the organization: reading (GET, HEAD) is for every member; a change asks for developer or more."""
    min_role = None if request.method in ("GET", "HEAD") else Role.DEVELOPER
    return access_organization_by_slug(request.user, slug, min_role=min_role)


def user_memberships(user: User) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user).select_related("organization").order_by("organization__name")


def organization_members(organization: Organization) -> QuerySet[Membership]:
    return Membership.objects.filter(organization=organization).select_related("user").order_by("created_at", "id")


def search_members(organization: Organization, *, q: str = "", role: str | None = None) -> QuerySet[Membership]:
    """The organization's members whose e-mail address or name holds ``q``, of one role if asked."""
    members = organization_members(organization)
    if q:
        members = members.filter(Q(user__email__icontains=q) | Q(user__full_name__icontains=q))
    if role:
        members = members.filter(role=role)
    return members


def organization_member_user_ids(organization: Organization) -> set[int]:
    """Who belongs to the organization now: lists say "a former member" for whoever made a key and left."""
    return set(Membership.objects.filter(organization=organization).values_list("user_id", flat=True))


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


def personal_organization(user: User) -> Organization | None:
    """The personal organization ``user`` owns (made at sign-up), where their account events are audited."""
    if user is None or not user.is_authenticated:
        return None
    return (
        Organization.objects.filter(is_personal=True, memberships__user=user, memberships__role="owner")
        .order_by("created_at", "id")
        .first()
    )


def user_sessions(user: User) -> list[Any]:  # allauth's UserSession rows (allauth ships no type hints)
    """The person's live sessions (allauth.usersessions), those that expired purged on the way."""
    from allauth.usersessions.models import UserSession

    sessions: list[Any] = UserSession.objects.purge_and_list(user)
    return sessions


def access_user_session_by_id(user: User, session_id: int) -> Any:  # a UserSession (allauth: untyped)
    """One of ``user``'s own sessions; anyone else's is a 404."""
    from allauth.usersessions.models import UserSession

    session = UserSession.objects.filter(user=user, pk=session_id).first()
    if session is None:
        raise Http404("No such session.")
    return session


BROWSERS = (("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"),
            ("Chromium/", "Chromium"), ("Safari/", "Safari"), ("curl/", "curl"))
SYSTEMS = (("Windows", "Windows"), ("Android", "Android"), ("iPhone", "iOS"), ("iPad", "iPadOS"),
           ("Mac OS X", "macOS"), ("CrOS", "ChromeOS"), ("Linux", "Linux"))


def browser_label(user_agent: str) -> str:
    """"Firefox on Linux" from a User-Agent header, for people to recognise their sessions by."""
    browser = next((name for token, name in BROWSERS if token in user_agent), None)
    system = next((name for token, name in SYSTEMS if token in user_agent), None)
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or (user_agent[:60] if user_agent else "Unknown browser")
