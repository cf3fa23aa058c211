"""Pages of an organization itself: creating one, its security policy. Thin: services do the work."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render

from accounts.forms import (
    OrganizationCreateForm,
)
from accounts.http import AuthenticatedHttpRequest
from accounts.organizations.services import organization_create, organization_require_two_factor
from accounts.roles import Role
from accounts.selectors import (
    access_organization_by_slug,
)
from accounts.two_factor import has_second_factor
from portal.callers import Caller
from portal.forms import add_service_errors, posted_data

# --- Organizations --------------------------------------------------------------------------------------


@login_required
def org_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = OrganizationCreateForm(posted_data(request))
    if request.method == "POST" and form.is_valid():
        try:
            organization = organization_create(
                name=form.cleaned_data["name"], slug=form.cleaned_data["slug"] or None,
                owner=request.user, caller=Caller.for_person(request.user),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"{organization.name} has been created. You are its owner.")
            return redirect("org-overview", organization.slug)
    return render(request, "accounts/org_create.html", {"form": form})


@login_required
def org_security(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
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
