"""Dashboard pages of least privilege: the credential policy on the Security page, and narrowing a key."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from accounts.http import AuthenticatedHttpRequest
from accounts.roles import Role
from accounts.selectors import access_organization_by_slug
from accounts.two_factor import has_second_factor
from apikeys.selectors import access_api_key_by_id
from apikeys.services import api_key_rotate
from apikeys.views import show_new_key
from policies.selectors import policy_for
from policies.services import credential_policy_update
from portal import scopes as scope_registry
from portal.forms import add_service_errors
from security.forms import CredentialPolicyForm
from security.scope_usage import NARROW_DAYS, scopes_used_recently


@login_required
@require_POST
def credential_policy_save(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    """Owners and admins set the policy; it revokes nothing (what breaks it is listed on the page)."""
    access = access_organization_by_slug(request.user, slug, min_role=Role.ADMIN)
    form = CredentialPolicyForm(request.POST, policy=policy_for(access.organization.pk))
    if form.is_valid():
        try:
            credential_policy_update(caller=access.caller, **form.service_arguments())
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "The credential policy has been saved. It revokes nothing: credentials that "
                                      "break it are listed below, each with a way to comply.")
            return redirect("org-security", slug)
    context = {"access": access, "is_owner": access.role == Role.OWNER,
               "has_second_factor": has_second_factor(request.user), "policy_form": form}
    return render(request, "accounts/org_security.html", context, status=400)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def key_narrow(request: AuthenticatedHttpRequest, slug: str, public_id: str) -> HttpResponse:
    """"Narrow to what it used": a confirmation listing the scopes that go, then a rotation (with the usual grace
    period for the old key) into a key holding only the scopes used in the last 30 days."""
    access = access_organization_by_slug(request.user, slug, min_role=Role.DEVELOPER)
    key = access_api_key_by_id(access.organization, public_id)
    used = scopes_used_recently(key)
    if "admin" in key.scopes:
        goes = ["admin", *[s for s in key.scopes if s != "admin" and s not in used]]
    else:
        goes = [s for s in key.scopes if s not in used]
    context = {"access": access, "key": key, "keeps": scope_registry.describe(used),
               "goes": scope_registry.describe(goes), "days": NARROW_DAYS, "can_narrow": bool(used) and bool(goes)
               and key.can_be_rotated}
    if request.method == "POST":
        if not context["can_narrow"]:
            messages.error(request, "This key cannot be narrowed: " + (
                "it used none of its scopes in the last 30 days." if not used else
                "it already holds only what it used." if not goes else "only an active key can be rotated."))
            return redirect("key-detail", slug, key.public_id)
        try:
            new_key, plaintext = api_key_rotate(caller=access.caller, key=key, scopes=used)
        except scope_registry.ScopeEscalation as refused:
            messages.error(request, f"Your role cannot grant {', '.join(refused.missing)}, so it cannot rotate "
                                    "this key. Ask an admin or owner.")
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            return show_new_key(request, access, new_key, plaintext)
        return redirect("key-detail", slug, key.public_id)
    return render(request, "security/key_narrow.html", context)
