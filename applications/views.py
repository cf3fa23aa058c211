"""Dashboard pages for applications. Thin: forms check shape, services do the work.

Who may do what: every member reads; developers and up create, change and delete applications (deleting one
revokes its keys and removes its OAuth clients, ``applications.services``).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from accounts.roles import Role, can_manage_credentials
from accounts.selectors import OrgAccess, access_organization_by_slug, organization_member_user_ids
from apikeys.selectors import organization_api_keys
from apikeys.views import show_new_key
from applications.forms import ApplicationForm
from applications.selectors import access_application_by_id, search_applications
from applications.services import (
    application_create,
    application_delete,
    application_update,
    quick_start_key_create,
)
from oauthapps.selectors import organization_oauth_clients
from portal.forms import add_service_errors, posted_data
from portal.listing import ListFilterForm, first_page, paginate


def _access_reading_or_managing(request: HttpRequest, slug: str) -> OrgAccess:
    """Reading is for every member; a POST (a change) asks for developer or more."""
    min_role = None if request.method in ("GET", "HEAD") else Role.DEVELOPER
    return access_organization_by_slug(request.user, slug, min_role=min_role)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def app_list(request: HttpRequest, slug: str) -> HttpResponse:
    """The organization's applications; a POST creates one (developers and up)."""
    access = _access_reading_or_managing(request, slug)
    form = ApplicationForm(posted_data(request))
    if request.method == "POST" and form.is_valid():
        try:
            application = application_create(caller=access.caller, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"{application.name} has been created. Make its first API key now.")
            return redirect("app-detail", slug, application.pk)
    search = ListFilterForm(request.GET)
    listing = paginate(search_applications(access.organization, **search.filters), search, request.GET.get("page"),
                       noun="application")
    context = {
        "access": access,
        "listing": listing,
        "applications": listing.page,
        "can_manage": can_manage_credentials(access.role),
        "form": form,
    }
    return render(request, "applications/app_list.html", context, status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def app_detail(request: HttpRequest, slug: str, app_id: int) -> HttpResponse:
    """One application, its keys and its OAuth clients; a POST changes its name and description (developers and
    up)."""
    access = _access_reading_or_managing(request, slug)
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
def app_delete(request: HttpRequest, slug: str, app_id: int) -> HttpResponse:
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
def quick_start(request: HttpRequest, slug: str) -> HttpResponse:
    """The overview's one button: the Default application and a test key, straight to the key's show-once page."""
    access = access_organization_by_slug(request.user, slug, min_role=Role.DEVELOPER)
    try:
        key, plaintext = quick_start_key_create(caller=access.caller)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("org-overview", slug)
    return show_new_key(request, access, key, plaintext)
