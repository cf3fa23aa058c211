"""Dashboard pages for API keys. Thin: forms check shape, services do the work.

Who may do what: every member reads, and may make a key within their role's ceiling (a viewer a
read-only one); developers and up revoke and rotate keys. Applications have their own pages (``applications``).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from accounts.http import AuthenticatedHttpRequest
from accounts.roles import Role, can_manage_credentials
from accounts.selectors import OrgAccess, access_organization_by_slug, organization_member_user_ids
from accounts.verification import email_verified
from apikeys.filters import ApiKeyFilterForm
from apikeys.forms import ApiKeyCreateForm, ApiKeyRotateForm
from apikeys.models import ApiKey
from apikeys.selectors import access_api_key_by_id, api_key_history, api_key_replaced, search_api_keys
from apikeys.services import api_key_create, api_key_keep, api_key_revoke, api_key_rotate, rotated_name
from applications.selectors import access_application_by_id
from policies.selectors import policy_for
from portal import scopes as scope_registry
from portal.conf import portal_settings
from portal.forms import add_service_errors, posted_data
from portal.listing import filtered_redirect, paginate
from portal.showonce import show_once_page, show_once_redirect

SHOW_ONCE_KIND = "api_key"


def show_new_key(request: HttpRequest, access: OrgAccess, key: ApiKey, plaintext: str) -> HttpResponse:
    """Stash the new key (encrypted, in the session) and redirect to the page that shows it once."""
    payload = {
        "application_id": key.application_id,
        "application": key.application.name,
        "key": plaintext,
        "public_id": key.public_id,
        "name": key.name,
        "environment": key.environment,
        "scopes": key.scopes,
        "expires_at": key.expires_at.isoformat() if key.expires_at else None,
    }
    return show_once_redirect(request, kind=SHOW_ONCE_KIND, organization=access.organization.slug, payload=payload,
                              to="key-created")


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def key_create(request: AuthenticatedHttpRequest, slug: str, app_id: int) -> HttpResponse:
    """Every member may make a key, within what their role may grant; the service enforces that ceiling."""
    access = access_organization_by_slug(request.user, slug)
    application = access_application_by_id(access.organization, app_id)
    form = ApiKeyCreateForm(posted_data(request), role=access.role,
                            allow_no_expiry=access.organization.allow_keys_without_expiry,
                            email_verified=email_verified(request.user),
                            policy=policy_for(access.organization.pk))
    if request.method == "POST" and form.is_valid():
        try:
            key, plaintext = api_key_create(caller=access.caller, application=application,
                                            **form.service_arguments())
        except scope_registry.ScopeEscalation as refused:
            form.add_error(form.scope_error_field(),
                           f"Your role cannot grant {', '.join(refused.missing)}. Choose fewer scopes.")
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return show_new_key(request, access, key, plaintext)
    context = {"access": access, "application": application, "form": form}
    return render(request, "apikeys/key_create.html", context, status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "HEAD"])
def key_list(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    """Every key of the organization, searched and filtered; every member may read it."""
    access = access_organization_by_slug(request.user, slug)
    form = ApiKeyFilterForm(request.GET, organization=access.organization)
    if form.query_rewritten:
        return filtered_redirect(request, form)
    listing = paginate(search_api_keys(access.organization, **form.filters), form, request.GET.get("page"),
                       noun="key")
    context = {
        "access": access,
        "listing": listing,
        "member_ids": organization_member_user_ids(access.organization),
        "can_manage": can_manage_credentials(access.role),
        "key_prefix": portal_settings.KEY_PREFIX,
    }
    return render(request, "apikeys/key_list.html", context)


@never_cache
@login_required
@require_http_methods(["GET", "HEAD"])
def key_created(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    """The one page that shows a new key. A reload finds nothing and says so (410 Gone)."""
    access = access_organization_by_slug(request.user, slug)
    return show_once_page(
        request, kind=SHOW_ONCE_KIND, organization=access.organization.slug, context={"access": access},
        template="apikeys/key_created.html", gone_template="apikeys/key_already_shown.html",
        payload_context=lambda secret: {
            "expires_at": parse_datetime(secret["expires_at"]) if secret.get("expires_at") else None,
            "scope_descriptions": scope_registry.describe(secret.get("scopes") or []),
        },
    )


@login_required
@require_http_methods(["GET", "HEAD"])
def key_detail(request: AuthenticatedHttpRequest, slug: str, public_id: str) -> HttpResponse:
    """Everything a key holds but its secret, its history and its usage. Every member may read it."""
    access = access_organization_by_slug(request.user, slug)
    key = access_api_key_by_id(access.organization, public_id)
    context = {
        "access": access,
        "key": key,
        "scope_descriptions": scope_registry.describe(key.scopes),
        "history": api_key_history(access.organization, key),
        "replaces": api_key_replaced(key),
        "can_manage": can_manage_credentials(access.role),
    }
    return render(request, "apikeys/key_detail.html", context)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def key_revoke(request: AuthenticatedHttpRequest, slug: str, public_id: str) -> HttpResponse:
    access = access_organization_by_slug(request.user, slug, min_role=Role.DEVELOPER)
    key = access_api_key_by_id(access.organization, public_id)
    if request.method == "POST":
        already = key.revoked_at is not None
        api_key_revoke(caller=access.caller, key=key)
        if already:
            messages.info(request, f"{key.name} ({key.masked}) was already revoked.")
        else:
            messages.success(request, f"{key.name} ({key.masked}) has been revoked. It stops working at once.")
        return redirect("app-detail", slug, key.application_id)
    return render(request, "apikeys/key_confirm_revoke.html", {"access": access, "key": key})


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def key_rotate(request: AuthenticatedHttpRequest, slug: str, public_id: str) -> HttpResponse:
    access = access_organization_by_slug(request.user, slug, min_role=Role.DEVELOPER)
    key = access_api_key_by_id(access.organization, public_id)
    form = ApiKeyRotateForm(posted_data(request), default_name=rotated_name(key.name, timezone.now().date()))
    if request.method == "POST" and form.is_valid():
        try:
            new_key, plaintext = api_key_rotate(caller=access.caller, key=key, **form.service_arguments())
        except scope_registry.ScopeEscalation as refused:
            form.add_error(None, f"Your role cannot grant this key's scopes ({', '.join(refused.missing)}), "
                                 "so it cannot rotate it. Ask an admin or owner.")
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return show_new_key(request, access, new_key, plaintext)
    context = {"access": access, "key": key, "form": form}
    return render(request, "apikeys/key_rotate.html", context, status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def key_keep(request: AuthenticatedHttpRequest, slug: str, public_id: str) -> HttpResponse:
    """Asks first (GET), then ends a rotation whose replacement failed: the old key goes back to how it was."""
    access = access_organization_by_slug(request.user, slug, min_role=Role.DEVELOPER)
    key = access_api_key_by_id(access.organization, public_id)
    if request.method == "POST":
        try:
            api_key_keep(caller=access.caller, key=key)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, f"{key.name} ({key.masked}) is no longer being rotated: it works as before.")
        return redirect("key-detail", slug, key.public_id)
    return render(request, "apikeys/key_confirm_keep.html", {"access": access, "key": key})
