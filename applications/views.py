"""Dashboard pages for applications. Thin: forms check shape, services do the work.

Who may do what: every member reads; developers and up create, change and delete applications (deleting one
revokes its keys and removes its OAuth clients, ``applications.services``).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from accounts.http import AuthenticatedHttpRequest
from accounts.roles import can_manage_credentials
from accounts.selectors import access_organization_to_read_or_change
from applications.forms import ApplicationForm
from applications.selectors import search_applications
from applications.services import (
    application_create,
)
from portal.forms import add_service_errors, posted_data
from portal.listing import ListFilterForm, paginate


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def app_list(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    """The organization's applications; a POST creates one (developers and up)."""
    access = access_organization_to_read_or_change(request, slug)
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
