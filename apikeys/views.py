"""Dashboard pages for applications and API keys. Thin: forms check shape, services do the work.

Who may do what: every member reads, and may make a key within their role's ceiling (a viewer a
read-only one); developers and up create, change and delete applications and revoke and rotate keys.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.dateparse import parse_datetime
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from accounts.forms import add_service_errors
from accounts.roles import Role, can_manage_credentials
from accounts.selectors import OrgAccess, access_organization_by_slug
from apikeys.forms import ApiKeyCreateForm, ApiKeyRotateForm, ApplicationForm
from apikeys.models import ApiKey
from apikeys.selectors import (
    access_api_key_by_id,
    access_application_by_id,
    organization_api_keys,
    organization_applications,
)
from apikeys.services import (
    api_key_create,
    api_key_revoke,
    api_key_rotate,
    application_create,
    application_delete,
    application_update,
)
from portal import scopes as scope_registry
from portal.conf import portal_settings
from portal.forms import posted_data
from portal.showonce import pop_secret, stash_secret

SHOW_ONCE_KIND = "api_key"


def _access_reading_or_managing(request: HttpRequest, slug: str) -> OrgAccess:
    """Reading is for every member; a POST (a change) asks for developer or more."""
    min_role = None if request.method in ("GET", "HEAD") else Role.DEVELOPER
    return access_organization_by_slug(request.user, slug, min_role=min_role)


# --- Applications ---------------------------------------------------------------------------------------


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
    context = {
        "access": access,
        "applications": organization_applications(access.organization),
        "can_manage": can_manage_credentials(access.role),
        "form": form,
    }
    return render(request, "apikeys/app_list.html", context, status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def app_detail(request: HttpRequest, slug: str, app_id: int) -> HttpResponse:
    """One application and its keys; a POST changes its name and description (developers and up)."""
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
        "keys": organization_api_keys(access.organization, application=application),
        "can_manage": can_manage_credentials(access.role),
        "form": form,
    }
    return render(request, "apikeys/app_detail.html", context, status=400 if form.errors else 200)


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
    return render(request, "apikeys/app_confirm_delete.html", context)


# --- API keys -------------------------------------------------------------------------------------------


def _show_once(request: HttpRequest, access: OrgAccess, key: ApiKey, plaintext: str) -> HttpResponse:
    """Stash the new key (encrypted, in the session) and redirect to the page that shows it once.

    The key never goes into a URL or the messages framework: only the show-once page reads it, once.
    """
    stash_secret(request, {
        "kind": SHOW_ONCE_KIND,
        "organization": access.organization.slug,
        "application_id": key.application_id,
        "application": key.application.name,
        "key": plaintext,
        "public_id": key.public_id,
        "name": key.name,
        "environment": key.environment,
        "scopes": key.scopes,
        "expires_at": key.expires_at.isoformat() if key.expires_at else None,
    })
    return redirect("key-created", access.organization.slug)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def key_create(request: HttpRequest, slug: str, app_id: int) -> HttpResponse:
    """Every member may make a key, within what their role may grant; the service enforces that ceiling."""
    access = access_organization_by_slug(request.user, slug)
    application = access_application_by_id(access.organization, app_id)
    form = ApiKeyCreateForm(posted_data(request), role=access.role,
                            allow_no_expiry=access.organization.allow_keys_without_expiry)
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
            return _show_once(request, access, key, plaintext)
    context = {"access": access, "application": application, "form": form}
    return render(request, "apikeys/key_create.html", context, status=400 if form.errors else 200)


@never_cache
@login_required
@require_http_methods(["GET", "HEAD"])
def key_created(request: HttpRequest, slug: str) -> HttpResponse:
    """The one page that shows a new key. A reload finds nothing and says so (410 Gone)."""
    access = access_organization_by_slug(request.user, slug)
    payload = pop_secret(request, kind=SHOW_ONCE_KIND, organization=access.organization.slug)
    if payload is None:
        return render(request, "apikeys/key_already_shown.html", {"access": access}, status=410)
    context = {
        "access": access,
        "secret": payload,
        "expires_at": parse_datetime(payload["expires_at"]) if payload.get("expires_at") else None,
        "scope_descriptions": scope_registry.describe(payload.get("scopes") or []),
        "base_url": portal_settings.BASE_URL.rstrip("/"),
    }
    return render(request, "apikeys/key_created.html", context)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def key_revoke(request: HttpRequest, slug: str, public_id: str) -> HttpResponse:
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
def key_rotate(request: HttpRequest, slug: str, public_id: str) -> HttpResponse:
    access = access_organization_by_slug(request.user, slug, min_role=Role.DEVELOPER)
    key = access_api_key_by_id(access.organization, public_id)
    form = ApiKeyRotateForm(posted_data(request))
    if request.method == "POST" and form.is_valid():
        try:
            new_key, plaintext = api_key_rotate(caller=access.caller, key=key, **form.cleaned_data)
        except scope_registry.ScopeEscalation as refused:
            form.add_error(None, f"Your role cannot grant this key's scopes ({', '.join(refused.missing)}), "
                                 "so it cannot rotate it. Ask an admin or owner.")
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return _show_once(request, access, new_key, plaintext)
    context = {"access": access, "key": key, "form": form, "can_rotate": _can_rotate(key)}
    return render(request, "apikeys/key_rotate.html", context, status=400 if form.errors else 200)


def _can_rotate(key: ApiKey) -> bool:
    return key.is_usable and key.replaced_by_id is None
