"""Dashboard pages for signing in, organizations, members and invitations. Thin: services do the work."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth import login, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.views.decorators.http import require_POST

from accounts.forms import (
    EmailAuthenticationForm,
    InvitationForm,
    OrganizationCreateForm,
    RoleForm,
    SignupForm,
)
from accounts.models import Invitation, Membership
from accounts.roles import Role, can_assign_role, can_manage_members
from accounts.selectors import (
    OrgAccess,
    access_invitation_by_id,
    access_membership_by_id,
    access_organization_by_slug,
    organization_members,
    organization_pending_invitations,
    user_memberships,
)
from accounts.services import (
    invitation_accept,
    invitation_by_token,
    invitation_create,
    invitation_revoke,
    membership_change_role,
    membership_remove,
    organization_create,
    user_password_change,
    user_signup,
)
from applications.selectors import organization_getting_started
from audit.selectors import organization_audit_events
from audit.services import audit_guessing_refused
from portal.conf import portal_settings
from portal.forms import add_service_errors, posted_data
from portal.ratelimit import SERVICE_RETRY_SECONDS, guard, record_failure

SESSION_CURRENT_ORG = "current_org"
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"

logger = logging.getLogger(__name__)


# --- Signing in and out ---------------------------------------------------------------------------------


class LoginView(auth_views.LoginView):
    """Django's sign-in: the session key is renewed at sign-in; failures are audited by a signal receiver and
    limited per email and per client IP (``portal.ratelimit``), failing closed when the cache is down."""

    authentication_form = EmailAuthenticationForm
    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        verdict = guard(request, kind="sign_in", identifier=request.POST.get("username", ""))
        audit_guessing_refused(verdict)
        if verdict.unavailable:
            return self._refuse("Sign-in is unavailable for a moment. Please try again shortly.", 503,
                                SERVICE_RETRY_SECONDS)
        if verdict.wait is not None:
            return self._refuse(f"Too many failed sign-in attempts. Try again in {verdict.wait} seconds.", 429,
                                verdict.wait)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form: EmailAuthenticationForm) -> HttpResponse:
        record_failure(self.request, kind="sign_in", identifier=form.data.get("username", ""))
        return super().form_invalid(form)

    def _refuse(self, message: str, status: int, retry_after: int) -> HttpResponse:
        # An unbound form: binding would try the password, and that attempt must not happen.
        form = self.get_form_class()(request=self.request, initial={"username": self.request.POST.get("username")})
        response = self.render_to_response(self.get_context_data(form=form, refusal=message), status=status)
        response["Retry-After"] = str(retry_after)
        return response


class LogoutView(auth_views.LogoutView):
    """POST only (Django's default): the session is flushed."""

    def post(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        response = super().post(request, *args, **kwargs)
        messages.info(request, "You have been signed out.")
        return response


class PasswordChangeView(auth_views.PasswordChangeView):
    """Keeps this session signed in and ends every other one (the session auth hash changes)."""

    success_url = reverse_lazy("dashboard")

    def form_valid(self, form) -> HttpResponse:
        user_password_change(user=form.user, new_password=form.cleaned_data["new_password1"])
        update_session_auth_hash(self.request, form.user)
        messages.success(self.request, "Your password has been changed.")
        return redirect(self.success_url)


def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("dashboard")
    form = SignupForm(posted_data(request))
    if request.method == "POST" and form.is_valid():
        try:
            user, organization = user_signup(
                email=form.cleaned_data["email"],
                password=form.cleaned_data["password1"],
                full_name=form.cleaned_data["full_name"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            login(request, user, backend=MODEL_BACKEND)
            request.session[SESSION_CURRENT_ORG] = organization.slug
            messages.success(request, f"Welcome! {organization.name} is ready.")
            return redirect("dashboard")
    return render(request, "registration/signup.html", {"form": form})


# --- Organizations --------------------------------------------------------------------------------------


def _render_overview(request: HttpRequest, access: OrgAccess) -> HttpResponse:
    organization = access.organization
    context = {
        "access": access,
        "member_count": organization_members(organization).count(),
        "pending_invitation_count": organization_pending_invitations(organization).count(),
        "recent_events": organization_audit_events(organization)[:5],
        "getting_started": organization_getting_started(organization),
        "base_url": portal_settings.BASE_URL.rstrip("/"),
    }
    return render(request, "accounts/org_overview.html", context)


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """The overview of the organization last visited, or of the user's first one."""
    memberships = list(user_memberships(request.user))
    if not memberships:
        return render(request, "accounts/dashboard_empty.html")
    current = request.session.get(SESSION_CURRENT_ORG)
    chosen = next((m for m in memberships if m.organization.slug == current), memberships[0])
    return _render_overview(request, access_organization_by_slug(request.user, chosen.organization.slug))


@login_required
def org_overview(request: HttpRequest, slug: str) -> HttpResponse:
    access = access_organization_by_slug(request.user, slug)
    request.session[SESSION_CURRENT_ORG] = access.organization.slug
    return _render_overview(request, access)


@login_required
def org_create(request: HttpRequest) -> HttpResponse:
    form = OrganizationCreateForm(posted_data(request))
    if request.method == "POST" and form.is_valid():
        try:
            organization = organization_create(
                name=form.cleaned_data["name"], slug=form.cleaned_data["slug"] or None,
                owner=request.user, actor=request.user,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"{organization.name} has been created. You are its owner.")
            return redirect("org-overview", organization.slug)
    return render(request, "accounts/org_create.html", {"form": form})


# --- Members and invitations ----------------------------------------------------------------------------


@dataclass(frozen=True)
class MemberRow:
    membership: Membership
    is_you: bool
    can_change_role: bool
    can_remove: bool


def _assignable_roles(access: OrgAccess) -> list[tuple[str, str]]:
    return [(value, label) for value, label in Role.choices if can_assign_role(access.role, value)]


def _render_members(request: HttpRequest, access: OrgAccess, invite_form: InvitationForm | None = None,
                    status: int = 200) -> HttpResponse:
    manager = can_manage_members(access.role)
    rows = [
        MemberRow(
            membership=m,
            is_you=m.user_id == request.user.pk,
            can_change_role=manager and can_assign_role(access.role, m.role),
            can_remove=m.user_id == request.user.pk or (manager and can_assign_role(access.role, m.role)),
        )
        for m in organization_members(access.organization)
    ]
    assignable = _assignable_roles(access)
    context = {
        "access": access,
        "rows": rows,
        "invitations": organization_pending_invitations(access.organization),
        "can_manage": manager,
        "assignable_roles": assignable,
        "invite_form": invite_form or InvitationForm(assignable_roles=assignable),
        "invitation_ttl_days": portal_settings.INVITATION_TTL_DAYS,
    }
    return render(request, "accounts/org_members.html", context, status=status)


@login_required
def org_members(request: HttpRequest, slug: str) -> HttpResponse:
    return _render_members(request, access_organization_by_slug(request.user, slug))


@require_POST
@login_required
def invitation_create_view(request: HttpRequest, slug: str) -> HttpResponse:
    access = access_organization_by_slug(request.user, slug, min_role=Role.ADMIN)
    form = InvitationForm(request.POST, assignable_roles=_assignable_roles(access))
    if form.is_valid():
        try:
            invitation, _token = invitation_create(
                caller=access.caller, email=form.cleaned_data["email"], role=form.cleaned_data["role"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Invitation sent to {invitation.email}.")
            return redirect("org-members", slug)
    return _render_members(request, access, invite_form=form, status=400)


@require_POST
@login_required
def invitation_revoke_view(request: HttpRequest, slug: str, invitation_id: int) -> HttpResponse:
    access = access_organization_by_slug(request.user, slug, min_role=Role.ADMIN)
    invitation = access_invitation_by_id(access, invitation_id)
    try:
        invitation_revoke(caller=access.caller, invitation=invitation)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"The invitation to {invitation.email} has been revoked.")
    return redirect("org-members", slug)


@require_POST
@login_required
def member_role(request: HttpRequest, slug: str, membership_id: int) -> HttpResponse:
    access = access_organization_by_slug(request.user, slug, min_role=Role.ADMIN)
    membership = access_membership_by_id(access, membership_id)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a valid role.")
        return redirect("org-members", slug)
    try:
        membership = membership_change_role(
            caller=access.caller, membership=membership, role=form.cleaned_data["role"])
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"{membership.user.email} is now {membership.get_role_display().lower()}.")
    return redirect("org-members", slug)


@require_POST
@login_required
def member_remove(request: HttpRequest, slug: str, membership_id: int) -> HttpResponse:
    """Remove a member, or leave the organization when the membership is your own."""
    access = access_organization_by_slug(request.user, slug)
    membership = access_membership_by_id(access, membership_id)
    leaving = membership.user_id == request.user.pk
    try:
        membership_remove(caller=access.caller, membership=membership)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("org-members", slug)
    if leaving:
        request.session.pop(SESSION_CURRENT_ORG, None)
        messages.success(request, f"You have left {access.organization.name}.")
        return redirect("dashboard")
    messages.success(request, f"{membership.user.email} has been removed.")
    return redirect("org-members", slug)


# --- Accepting an invitation ----------------------------------------------------------------------------

INVALID_INVITATION_MESSAGES = {
    "accepted": "This invitation has already been used.",
    "revoked": "This invitation has been revoked.",
    "expired": "This invitation has expired. Ask the person who invited you for a new one.",
}


def _accepted(request: HttpRequest, membership: Membership) -> HttpResponse:
    request.session[SESSION_CURRENT_ORG] = membership.organization.slug
    messages.success(request, f"You have joined {membership.organization.name}.")
    return redirect("org-overview", membership.organization.slug)


def invitation_accept_view(request: HttpRequest, token: str) -> HttpResponseBase:
    """Show an invitation; accept it as the signed-in user, or sign up with the invited address and accept."""
    invitation = invitation_by_token(token)
    if invitation is None:
        return render(request, "accounts/invitation_invalid.html",
                      {"message": "This invitation link is not valid."}, status=404)
    if not invitation.is_pending:
        return render(request, "accounts/invitation_invalid.html",
                      {"message": INVALID_INVITATION_MESSAGES[invitation.status]}, status=410)

    user = request.user
    email_matches = user.is_authenticated and user.email.lower() == invitation.email.lower()
    signup_form = None if user.is_authenticated else SignupForm(posted_data(request), fixed_email=invitation.email)
    error = None
    if request.method == "POST":
        if email_matches:
            try:
                return _accepted(request, invitation_accept(token=token, user=user))
            except ValidationError as exc:
                error = " ".join(exc.messages)
        elif signup_form is not None and signup_form.is_valid():
            response = _signup_and_accept(request, token, invitation, signup_form)
            if response is not None:
                return response
        elif user.is_authenticated:
            error = f"This invitation was sent to {invitation.email}. Sign in with that address to accept it."
    context = {"invitation": invitation, "email_matches": email_matches, "signup_form": signup_form, "error": error}
    return render(request, "accounts/invitation_accept.html", context, status=400 if error else 200)


def _signup_and_accept(request: HttpRequest, token: str, invitation: Invitation,
                       form: SignupForm) -> HttpResponse | None:
    try:
        with transaction.atomic():
            user, _personal = user_signup(
                email=invitation.email, password=form.cleaned_data["password1"],
                full_name=form.cleaned_data["full_name"],
            )
            membership = invitation_accept(token=token, user=user)
    except ValidationError as error:
        add_service_errors(form, error)
        return None
    login(request, user, backend=MODEL_BACKEND)
    return _accepted(request, membership)
