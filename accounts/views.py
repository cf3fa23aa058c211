"""Dashboard pages for signing in, organizations, members and invitations. Thin: services do the work."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from allauth.account import views as allauth_views
from allauth.mfa.recovery_codes import views as mfa_recovery_views
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from accounts.filters import MemberFilterForm
from accounts.forms import (
    InvitationForm,
    InvitationSignupForm,
    LoginForm,
    OrganizationCreateForm,
    RoleForm,
)
from accounts.models import Invitation, Membership
from accounts.roles import Role, can_assign_role, can_manage_members
from accounts.selectors import (
    OrgAccess,
    access_invitation_by_id,
    access_membership_by_id,
    access_organization_by_slug,
    access_user_session_by_id,
    browser_label,
    organization_pending_invitations,
    owner_count,
    search_members,
    user_sessions,
)
from accounts.services import (
    LAST_OWNER_MESSAGE,
    SESSION_CURRENT_ORG,
    invitation_accept,
    invitation_by_token,
    invitation_create,
    invitation_revoke,
    membership_change_role,
    organization_create,
    organization_require_two_factor,
    user_other_sessions_end,
    user_session_ended,
    user_signup,
    user_verification_resend,
)
from accounts.two_factor import has_second_factor, unused_recovery_codes
from audit.services import audit_guessing_refused
from portal.conf import portal_settings
from portal.forms import add_service_errors, posted_data
from portal.listing import paginate
from portal.ratelimit import SERVICE_RETRY_SECONDS, guard, record_failure

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"

logger = logging.getLogger(__name__)


# --- Signing in -------------------------------------------------------------------------------------------


class LoginView(allauth_views.LoginView):
    """allauth's sign-in, behind the portal's guard against guessing (contract section 7): failures are limited
    per email and per client IP (``portal.ratelimit``), 429 with the message in the page, and 503 when the cache is
    down (fail closed), checked before allauth reads anything so that no attempt happens then."""

    def dispatch(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponseBase:
        if request.method == "POST":
            _accept_former_field_names(request, {"username": "login"})
            verdict = guard(request, kind="sign_in", identifier=request.POST.get("login", ""))
            audit_guessing_refused(verdict)
            if verdict.unavailable:
                return self._refuse("Sign-in is unavailable for a moment. Please try again shortly.", 503,
                                    SERVICE_RETRY_SECONDS)
            if verdict.wait is not None:
                return self._refuse(f"Too many failed sign-in attempts. Try again in {verdict.wait} seconds.", 429,
                                    verdict.wait)
        return super().dispatch(request, *args, **kwargs)

    def form_invalid(self, form: LoginForm) -> HttpResponse:
        record_failure(self.request, kind="sign_in", identifier=form.data.get("login", ""))
        return super().form_invalid(form)

    def _refuse(self, message: str, status: int, retry_after: int) -> HttpResponse:
        # An unbound form: binding would try the password, and that attempt must not happen.
        form = LoginForm(request=self.request, initial={"login": self.request.POST.get("login")})
        context = {"form": form, "refusal": message, "signup_url": reverse("signup")}
        response = render(self.request, "account/login.html", context, status=status)
        response["Retry-After"] = str(retry_after)
        return response


class PasswordChangeView(allauth_views.PasswordChangeView):
    """allauth's password change, also at its former address: this session stays signed in, every other one
    ends (``accounts.signals``)."""

    def dispatch(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponseBase:
        if request.method == "POST":
            _accept_former_field_names(
                request, {"old_password": "oldpassword", "new_password1": "password1", "new_password2": "password2"}
            )
        return super().dispatch(request, *args, **kwargs)


def _accept_former_field_names(request: HttpRequest, names: dict[str, str]) -> None:
    """The portal's forms before allauth named some fields differently; scripts that still post those names
    keep working."""
    if any(old in request.POST and new not in request.POST for old, new in names.items()):
        request.POST = request.POST.copy()
        for old, new in names.items():
            if old in request.POST and new not in request.POST:
                request.POST[new] = request.POST[old]


@require_POST
@login_required
def verification_resend(request: HttpRequest) -> HttpResponse:
    """Mail the verification link again (at most one a few minutes, allauth's ``confirm_email`` limit)."""
    sent = user_verification_resend(request=request, user=request.user)
    if sent:
        messages.success(request, f"We sent a new verification link to {request.user.email}. It works for 3 days.")
    else:
        messages.info(request, "Your address is verified, or a link was sent a moment ago: check your inbox.")
    next_url = request.POST.get("next", "")
    if next_url and url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        return redirect(next_url)
    return redirect("dashboard")


# --- Sessions ------------------------------------------------------------------------------------------------


@login_required
def sessions_list(request: HttpRequest) -> HttpResponse:
    """A person's sessions (browser, IP, last seen; allauth.usersessions) with a button to end each one, and one
    to end all others."""
    if request.method == "POST":
        ended = user_other_sessions_end(user=request.user, keep_session_key=request.session.session_key,
                                        actor=request.user)
        messages.success(request, f"Ended {ended} other session{'s' if ended != 1 else ''}.")
        return redirect("sessions")
    rows = [
        {"session": session, "browser": browser_label(session.user_agent), "current": session.is_current()}
        for session in sorted(user_sessions(request.user), key=lambda s: s.last_seen_at, reverse=True)
    ]
    return render(request, "usersessions/usersession_list.html", {"rows": rows})


@require_POST
@login_required
def session_end(request: HttpRequest, session_id: int) -> HttpResponse:
    session = access_user_session_by_id(request.user, session_id)
    current = session.is_current()
    user_session_ended(session=session, actor=request.user)
    if current:
        return redirect("login")
    messages.success(request, f"The session of {browser_label(session.user_agent)} has ended.")
    return redirect("sessions")


# --- Recovery codes: shown once, downloadable as text while that page is fresh -------------------------------

RECOVERY_CODES_DOWNLOAD = "mfa_recovery_codes_download"
RECOVERY_CODES_DOWNLOAD_SECONDS = 600


class RecoveryCodesView(mfa_recovery_views.ViewRecoveryCodesView):
    """allauth shows the ten codes once (``MFA_RECOVERY_CODES_SHOW_ONCE``) and then offers no download; this page
    also lets the person download what it just showed, for a few minutes, from this session only."""

    def get_context_data(self, **kwargs: object) -> dict:
        context = super().get_context_data(**kwargs)
        if context["can_view_codes"]:
            self.request.session[RECOVERY_CODES_DOWNLOAD] = int(time.time()) + RECOVERY_CODES_DOWNLOAD_SECONDS
            context["can_download_codes"] = True
        return context


@login_required
def recovery_codes_download(request: HttpRequest) -> HttpResponse:
    """The codes the recovery-codes page has just shown, as a text file; a 404 once that page is stale."""
    until = request.session.get(RECOVERY_CODES_DOWNLOAD, 0)
    codes = unused_recovery_codes(request.user)
    if not isinstance(until, int) or until < time.time() or not codes:
        raise Http404("The recovery codes were shown once already. Generate new ones to download them.")
    response = HttpResponse("".join(f"{code}\n" for code in codes), content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="recovery-codes.txt"'
    response["Cache-Control"] = "no-store"
    return response


# --- Organizations --------------------------------------------------------------------------------------


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


@login_required
def org_security(request: HttpRequest, slug: str) -> HttpResponse:
    """The organization's security policy: owners require two-factor of every member."""
    access = access_organization_by_slug(request.user, slug)
    if request.method == "POST":
        try:
            organization_require_two_factor(caller=access.caller,
                                            required=request.POST.get("require_two_factor") == "on")
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, "The security policy has been saved.")
        return redirect("org-security", slug)
    context = {"access": access, "is_owner": access.role == Role.OWNER,
               "has_second_factor": has_second_factor(request.user)}
    return render(request, "accounts/org_security.html", context)


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
    assignable = _assignable_roles(access)
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


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def member_role(request: HttpRequest, slug: str, membership_id: int) -> HttpResponse:
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
        "assignable_roles": _assignable_roles(access), "is_you": membership.user_id == request.user.pk,
        "is_last_owner": membership.role == Role.OWNER and owner_count(access.organization) <= 1,
    }
    return render(request, "accounts/member_role.html", context)


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
    signup_form = None if user.is_authenticated else InvitationSignupForm(posted_data(request),
                                                                          fixed_email=invitation.email)
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
                       form: InvitationSignupForm) -> HttpResponse | None:
    try:
        with transaction.atomic():
            # The invitation's token came to this address by e-mail: it is verified.
            user, _personal = user_signup(
                email=invitation.email, password=form.cleaned_data["password1"],
                full_name=form.cleaned_data["full_name"], email_verified=True,
            )
            membership = invitation_accept(token=token, user=user)
    except ValidationError as error:
        add_service_errors(form, error)
        return None
    login(request, user, backend=MODEL_BACKEND)
    return _accepted(request, membership)
