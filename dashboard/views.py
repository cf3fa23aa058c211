"""The top floor: pages that show several features at once. The organization's overview (its members, its
latest audit events, the first steps with applications and keys), the page that removes a member (with the keys
and clients they made), an application's page (its keys and its OAuth clients) and the quick start (the Default
application and a first key, from the overview). No models: it reads through each app's selectors and writes
through its services; nothing imports it.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from accounts.http import AuthenticatedHttpRequest
from accounts.memberships.services import SESSION_CURRENT_ORG, membership_remove
from accounts.roles import Role, can_manage_credentials
from accounts.selectors import (
    OrgAccess,
    access_membership_by_id,
    access_organization_by_slug,
    access_organization_to_read_or_change,
    organization_member_user_ids,
    organization_members,
    organization_pending_invitations,
    owner_count,
    user_memberships,
)
from accounts.two_factor import TwoFactorRequired
from apikeys.selectors import organization_api_keys
from apikeys.services import quick_start_key_create
from apikeys.views import show_new_key
from applications.forms import ApplicationForm
from applications.selectors import access_application_by_id, organization_getting_started
from applications.services import application_delete, application_update
from audit.selectors import organization_audit_events
from oauthapps.selectors import organization_oauth_clients
from portal.forms import add_service_errors, posted_data
from portal.listing import first_page
from portal.showonce import public_base_url

# --- The organization's overview ---------------------------------------------------------------------------


def _render_overview(request: HttpRequest, access: OrgAccess) -> HttpResponse:
    organization = access.organization
    getting_started = organization_getting_started(organization)
    context = {
        "access": access,
        "member_count": organization_members(organization).count(),
        "pending_invitation_count": organization_pending_invitations(organization).count(),
        "recent_events": organization_audit_events(organization)[:5],
        "getting_started": getting_started,
        # The first call in two actions: one button makes the Default application and a test key (not for a viewer).
        "offer_quick_start": not getting_started.has_key and can_manage_credentials(access.role),
        "base_url": public_base_url(request),
    }
    return render(request, "accounts/org_overview.html", context)


@login_required
def dashboard(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The overview of the organization last visited, or of the user's first one; one that requires a second factor
    the person lacks gives way to the next (so that the page asking for it can lead back here)."""
    memberships = list(user_memberships(request.user))
    if not memberships:
        return render(request, "accounts/dashboard_empty.html")
    current = request.session.get(SESSION_CURRENT_ORG)
    memberships.sort(key=lambda m: m.organization.slug != current)
    refused: TwoFactorRequired | None = None
    for membership in memberships:
        try:
            access = access_organization_by_slug(request.user, membership.organization.slug)
        except TwoFactorRequired as error:
            refused = refused or error
            continue
        return _render_overview(request, access)
    assert refused is not None  # there is a membership, and each one was refused
    raise refused


@login_required
def org_overview(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    access = access_organization_by_slug(request.user, slug)
    request.session[SESSION_CURRENT_ORG] = access.organization.slug
    return _render_overview(request, access)


# --- Removing a member ----------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def member_remove(request: AuthenticatedHttpRequest, slug: str, membership_id: int) -> HttpResponse:
    """Remove a member, or leave the organization when the membership is your own. The page asks first and lists
    the keys and OAuth clients the member made, with one choice to revoke them all in the same step."""
    access = access_organization_by_slug(request.user, slug)
    membership = access_membership_by_id(access, membership_id)
    leaving = membership.user_id == request.user.pk
    if request.method != "POST":
        context = {
            "access": access, "membership": membership, "leaving": leaving,
            "keys": organization_api_keys(access.organization, include_revoked=False).filter(
                created_by=membership.user),
            "clients": organization_oauth_clients(access.organization).filter(created_by=membership.user),
            "is_last_owner": membership.role == Role.OWNER and owner_count(access.organization) <= 1,
        }
        return render(request, "accounts/member_remove.html", context)
    try:
        membership_remove(caller=access.caller, membership=membership,
                          revoke_credentials=request.POST.get("revoke_credentials") == "on")
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("org-members", slug)
    if leaving:
        request.session.pop(SESSION_CURRENT_ORG, None)
        messages.success(request, f"You have left {access.organization.name}.")
        return redirect("dashboard")
    messages.success(request, f"{membership.user.email} has been removed.")
    return redirect("org-members", slug)


# --- An application's page -------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def app_detail(request: AuthenticatedHttpRequest, slug: str, app_id: int) -> HttpResponse:
    """One application, its keys and its OAuth clients; a POST changes its name and description (developers and
    up)."""
    access = access_organization_to_read_or_change(request, slug)
    application = access_application_by_id(access.organization, app_id)
    initial = {"name": application.name, "description": application.description}
    form = ApplicationForm(posted_data(request), initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            application_update(caller=access.caller, application=application, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "The application has been saved.")
            return redirect("app-detail", slug, application.pk)
    context = {
        "access": access,
        "application": application,
        "keys": first_page(organization_api_keys(access.organization, application=application)),
        "oauth_clients": first_page(organization_oauth_clients(access.organization, application=application)),
        # Keys and clients made by someone no longer in the organization read "by a former member".
        "member_ids": organization_member_user_ids(access.organization),
        "can_manage": can_manage_credentials(access.role),
        "form": form,
    }
    return render(request, "applications/app_detail.html", context, status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def app_delete(request: AuthenticatedHttpRequest, slug: str, app_id: int) -> HttpResponse:
    """Confirm, then delete an application; the service revokes its keys first."""
    access = access_organization_by_slug(request.user, slug, min_role=Role.DEVELOPER)
    application = access_application_by_id(access.organization, app_id)
    if request.method == "POST":
        application_delete(caller=access.caller, application=application)
        messages.success(request, f"{application.name} has been deleted and its keys revoked.")
        return redirect("app-list", slug)
    active_keys = organization_api_keys(access.organization, application=application, include_revoked=False)
    context = {"access": access, "application": application, "active_key_count": active_keys.count()}
    return render(request, "applications/app_confirm_delete.html", context)


@require_POST
@login_required
def quick_start(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    """The overview's one button: the Default application and a test key, straight to the key's show-once page."""
    access = access_organization_by_slug(request.user, slug, min_role=Role.DEVELOPER)
    try:
        key, plaintext = quick_start_key_create(caller=access.caller)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("org-overview", slug)
    return show_new_key(request, access, key, plaintext)
