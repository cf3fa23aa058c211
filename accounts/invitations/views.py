"""Inviting someone, revoking an invitation and accepting one (signed in, or signing up on the way). Thin:
services do the work."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.forms import (
    InvitationForm,
    InvitationSignupForm,
)
from accounts.http import AuthenticatedHttpRequest
from accounts.invitations.services import invitation_accept, invitation_by_token, invitation_create, invitation_revoke
from accounts.memberships.services import SESSION_CURRENT_ORG
from accounts.memberships.views import assignable_roles, render_members
from accounts.models import Invitation, Membership
from accounts.people.services import user_signup
from accounts.roles import Role
from accounts.selectors import (
    access_invitation_by_id,
    access_organization_by_slug,
)
from portal.callers import Caller
from portal.forms import add_service_errors, posted_data

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


@require_POST
@login_required
def invitation_create_view(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    access = access_organization_by_slug(request.user, slug, min_role=Role.ADMIN)
    form = InvitationForm(request.POST, assignable_roles=assignable_roles(access))
    if form.is_valid():
        try:
            invitation, _token = invitation_create(
                caller=access.caller, email=form.cleaned_data["email"], role=form.cleaned_data["role"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Invitation sent to {invitation.email}.")
            return redirect("org-members", slug)
    return render_members(request, access, invite_form=form, status=400)


@require_POST
@login_required
def invitation_revoke_view(request: AuthenticatedHttpRequest, slug: str, invitation_id: int) -> HttpResponse:
    access = access_organization_by_slug(request.user, slug, min_role=Role.ADMIN)
    invitation = access_invitation_by_id(access, invitation_id)
    try:
        invitation_revoke(caller=access.caller, invitation=invitation)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"The invitation to {invitation.email} has been revoked.")
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
    signup_form = None if user.is_authenticated else InvitationSignupForm(posted_data(request),
                                                                          fixed_email=invitation.email)
    error = None
    if request.method == "POST":
        if email_matches and user.is_authenticated:  # a matching address means a signed-in person
            try:
                return _accepted(request, invitation_accept(caller=Caller.for_person(user), token=token))
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
            membership = invitation_accept(caller=Caller.for_person(user), token=token)
    except ValidationError as error:
        add_service_errors(form, error)
        return None
    login(request, user, backend=MODEL_BACKEND)
    return _accepted(request, membership)
