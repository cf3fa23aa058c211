"""The members page: who is in the organization, their roles, the pending invitations. Thin: services do the
work."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from accounts.filters import MemberFilterForm
from accounts.forms import (
    InvitationForm,
    RoleForm,
)
from accounts.http import AuthenticatedHttpRequest
from accounts.memberships.services import LAST_OWNER_MESSAGE, membership_change_role
from accounts.models import Membership
from accounts.roles import Role, can_assign_role, can_manage_members
from accounts.selectors import (
    OrgAccess,
    access_membership_by_id,
    access_organization_by_slug,
    organization_pending_invitations,
    owner_count,
    search_members,
)
from portal.conf import portal_settings
from portal.listing import paginate

# --- Members and invitations ----------------------------------------------------------------------------


@dataclass(frozen=True)
class MemberRow:
    membership: Membership
    is_you: bool
    can_change_role: bool
    can_remove: bool


def assignable_roles(access: OrgAccess) -> list[tuple[str, str]]:
    return [(value, label) for value, label in Role.choices if can_assign_role(access.role, value)]


def render_members(request: HttpRequest, access: OrgAccess, invite_form: InvitationForm | None = None,
                    status: int = 200) -> HttpResponse:
    manager = can_manage_members(access.role)
    form = MemberFilterForm(request.GET)
    listing = paginate(search_members(access.organization, **form.filters), form, request.GET.get("page"),
                       noun="member")
    rows = [
        MemberRow(
            membership=m,
            is_you=m.user_id == request.user.pk,
            can_change_role=manager and can_assign_role(access.role, m.role),
            can_remove=m.user_id == request.user.pk or (manager and can_assign_role(access.role, m.role)),
        )
        for m in listing.page
    ]
    assignable = assignable_roles(access)
    context = {
        "access": access,
        "listing": listing,
        "rows": rows,
        "invitations": organization_pending_invitations(access.organization),
        "can_manage": manager,
        "assignable_roles": assignable,
        "invite_form": invite_form or InvitationForm(assignable_roles=assignable),
        "invitation_ttl_days": portal_settings.INVITATION_TTL_DAYS,
    }
    return render(request, "accounts/org_members.html", context, status=status)


@login_required
def org_members(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    return render_members(request, access_organization_by_slug(request.user, slug))


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def member_role(request: AuthenticatedHttpRequest, slug: str, membership_id: int) -> HttpResponse:
    """Change a member's role. An owner's role changes only once confirmed: the members page's POST (or a GET)
    shows the confirmation page, whose POST carries ``confirm=yes``; the last owner's role is refused outright."""
    access = access_organization_by_slug(request.user, slug, min_role=Role.ADMIN)
    membership = access_membership_by_id(access, membership_id)
    if not can_assign_role(access.role, membership.role):
        raise PermissionDenied("Only owners change who is an owner.")
    if request.method != "POST":
        form = RoleForm(request.GET if "role" in request.GET else None, initial={"role": membership.role})
        return _render_role_change(request, access, membership, form)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a valid role.")
        return redirect("org-members", slug)
    role = form.cleaned_data["role"]
    if membership.role == Role.OWNER and role != Role.OWNER:
        if owner_count(access.organization) <= 1:
            messages.error(request, LAST_OWNER_MESSAGE)
            return redirect("org-members", slug)
        if request.POST.get("confirm") != "yes":
            return _render_role_change(request, access, membership, form)
    try:
        membership = membership_change_role(caller=access.caller, membership=membership, role=role)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"{membership.user.email} is now {membership.get_role_display().lower()}.")
    return redirect("org-members", slug)


def _render_role_change(request: HttpRequest, access: OrgAccess, membership: Membership, form: RoleForm,
                        ) -> HttpResponse:
    """The page that asks before a role changes: the new role to confirm (or to choose, on a GET without one)."""
    new_role = form.cleaned_data["role"] if form.is_bound and form.is_valid() else None
    context = {
        "access": access, "membership": membership, "new_role": new_role and Role(new_role),
        "assignable_roles": assignable_roles(access), "is_you": membership.user_id == request.user.pk,
        "is_last_owner": membership.role == Role.OWNER and owner_count(access.organization) <= 1,
    }
    return render(request, "accounts/member_role.html", context)
