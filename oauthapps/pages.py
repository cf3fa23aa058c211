"""Dashboard pages for OAuth clients, and a person's "Authorized applications". Thin: services do the work.

The OAuth endpoints themselves are in ``oauthapps.endpoints``. Who may do what: every member reads a client;
developers and up register, change, rotate and delete them (like API keys, ``apikeys.views``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST
from oauth2_provider.models import AccessToken, RefreshToken
from oauth2_provider.settings import oauth2_settings

from accounts.http import AuthenticatedHttpRequest
from accounts.roles import Role, can_manage_credentials
from accounts.selectors import OrgAccess, access_organization_by_slug, organization_member_user_ids
from applications.selectors import access_application_by_id
from oauthapps.filters import OAuthClientFilterForm
from oauthapps.forms import REDIRECT_URI_HELP, OAuthClientCreateForm, OAuthClientForm
from oauthapps.models import OAuthClient
from oauthapps.selectors import access_oauth_client_by_id, search_oauth_clients
from oauthapps.services.clients import (
    oauth_client_create,
    oauth_client_delete,
    oauth_client_rotate_secret,
    oauth_client_update,
)
from oauthapps.services.tokens import oauth_consent_revoke
from policies.selectors import policy_for
from portal import scopes as scope_registry
from portal.callers import Caller
from portal.forms import add_service_errors, posted_data
from portal.listing import paginate
from portal.showonce import show_once_page, show_once_redirect

# The session's show-once slot is shared with the API-key page; each page reads only its own kind.
SHOW_ONCE_KIND = "oauth_client"


def _escalation_message(refused: scope_registry.ScopeEscalation) -> str:
    return f"Your role cannot grant {', '.join(refused.missing)}. Choose fewer scopes, or ask an admin or owner."


def _show_once(request: HttpRequest, access: OrgAccess, client: OAuthClient, secret: str | None,
               *, rotated: bool = False) -> HttpResponse:
    """Stash the new credentials (encrypted, in the session) and redirect to the page that shows them once."""
    payload = {
        "client_pk": client.pk,
        "client_id": client.client_id,
        "client_secret": secret,
        "name": client.name,
        "client_type": client.client_type,
        "grant_types": list(client.grant_types),
        "allowed_scopes": list(client.allowed_scopes),
        "redirect_uris": client.redirect_uris.split(),
        "application_id": client.application_id,
        "application": client.application.name,
        "rotated": rotated,
    }
    return show_once_redirect(request, kind=SHOW_ONCE_KIND, organization=access.organization.slug, payload=payload,
                              to="client-secret-shown")


# --- OAuth clients of an organization ------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def client_create(request: AuthenticatedHttpRequest, slug: str, app_id: int) -> HttpResponse:
    """Register a client under an application (developers and up), within what the person's role may grant."""
    access = access_organization_by_slug(request.user, slug, min_role=Role.DEVELOPER)
    application = access_application_by_id(access.organization, app_id)
    form = OAuthClientCreateForm(posted_data(request), role=access.role, policy=policy_for(access.organization.pk))
    if request.method == "POST" and form.is_valid():
        try:
            client, secret = oauth_client_create(caller=access.caller, application=application,
                                                 **form.service_arguments())
        except scope_registry.ScopeEscalation as refused:
            form.add_error("allowed_scopes", _escalation_message(refused))
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return _show_once(request, access, client, secret)
    context = {"access": access, "application": application, "form": form}
    return render(request, "oauthapps/client_create.html", context, status=400 if form.errors else 200)


def _render_detail(request: HttpRequest, access: OrgAccess, client: OAuthClient, form: OAuthClientForm | None,
                   ) -> HttpResponse:
    context = {
        "access": access,
        "client": client,
        "form": form,
        "can_manage": can_manage_credentials(access.role),
        "scope_descriptions": scope_registry.describe(client.allowed_scopes),
        "redirect_uri_help": REDIRECT_URI_HELP,
    }
    return render(request, "oauthapps/client_detail.html", context,
                  status=400 if form is not None and form.errors else 200)


@login_required
@require_http_methods(["GET", "HEAD"])
def client_list(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    """Every OAuth client of the organization, searched and filtered; every member may read it."""
    access = access_organization_by_slug(request.user, slug)
    form = OAuthClientFilterForm(request.GET, organization=access.organization)
    listing = paginate(search_oauth_clients(access.organization, **form.filters), form, request.GET.get("page"),
                       noun="OAuth client")
    context = {"access": access, "listing": listing,
               "member_ids": organization_member_user_ids(access.organization)}
    return render(request, "oauthapps/client_list.html", context)


@login_required
@require_http_methods(["GET", "HEAD"])
def client_detail(request: AuthenticatedHttpRequest, slug: str, client_pk: int) -> HttpResponse:
    """One client; every member reads it, developers and up also see the edit form."""
    access = access_organization_by_slug(request.user, slug)
    client = access_oauth_client_by_id(access.organization, client_pk)
    form = OAuthClientForm(role=access.role, client=client, policy=policy_for(access.organization.pk)) \
        if can_manage_credentials(access.role) else None
    return _render_detail(request, access, client, form)


@login_required
@require_POST
def client_edit(request: AuthenticatedHttpRequest, slug: str, client_pk: int) -> HttpResponse:
    """Change a client's name, grants, redirect URIs, scopes or rate limit; errors show on its page."""
    access = access_organization_by_slug(request.user, slug, min_role=Role.DEVELOPER)
    client = access_oauth_client_by_id(access.organization, client_pk)
    form = OAuthClientForm(request.POST, role=access.role, client=client,
                           policy=policy_for(access.organization.pk))
    if form.is_valid():
        try:
            oauth_client_update(caller=access.caller, client=client, **form.changes())
        except scope_registry.ScopeEscalation as refused:
            form.add_error("allowed_scopes", _escalation_message(refused))
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"{form.cleaned_data['name']} has been saved.")
            return redirect("client-detail", slug, client.pk)
    return _render_detail(request, access, client, form)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def client_rotate(request: AuthenticatedHttpRequest, slug: str, client_pk: int) -> HttpResponse:
    """Confirm, then replace the client secret; the new one is shown once and the old one stops at once."""
    access = access_organization_by_slug(request.user, slug, min_role=Role.DEVELOPER)
    client = access_oauth_client_by_id(access.organization, client_pk)
    error: str | None = None
    if request.method == "POST":
        try:
            client, secret = oauth_client_rotate_secret(caller=access.caller, client=client)
        except ValidationError as refused:
            error = " ".join(refused.messages)
        else:
            return _show_once(request, access, client, secret, rotated=True)
    context = {"access": access, "client": client, "error": error}
    return render(request, "oauthapps/client_rotate.html", context, status=400 if error else 200)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def client_delete(request: AuthenticatedHttpRequest, slug: str, client_pk: int) -> HttpResponse:
    """Confirm, then delete a client; its tokens go with it and fail at once."""
    access = access_organization_by_slug(request.user, slug, min_role=Role.DEVELOPER)
    client = access_oauth_client_by_id(access.organization, client_pk)
    if request.method == "POST":
        oauth_client_delete(caller=access.caller, client=client)
        messages.success(request, f"{client.name} has been deleted; its tokens no longer work.")
        return redirect("app-detail", slug, client.application_id)
    return render(request, "oauthapps/client_confirm_delete.html", {"access": access, "client": client})


@never_cache
@login_required
@require_http_methods(["GET", "HEAD"])
def client_secret_shown(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    """The one page that shows a new client secret. A reload finds nothing and says so (410 Gone)."""
    access = access_organization_by_slug(request.user, slug)
    return show_once_page(
        request, kind=SHOW_ONCE_KIND, organization=access.organization.slug, context={"access": access},
        template="oauthapps/client_secret_shown.html", gone_template="oauthapps/client_already_shown.html",
        payload_context=lambda secret: {
            "scope_descriptions": scope_registry.describe(secret.get("allowed_scopes") or []),
            "first_scope": (secret.get("allowed_scopes") or [""])[0],
            "redirect_uri": (secret.get("redirect_uris") or ["https://YOUR-APP.example/callback"])[0],
        },
    )


# --- Authorized applications of the signed-in person ----------------------------------------------------------


@dataclass
class AuthorizedClient:
    """A client holding live tokens for a person: what the "Authorized applications" page lists."""

    client: OAuthClient
    scopes: list[str] = field(default_factory=list)
    organizations: list[str] = field(default_factory=list)
    last_granted: datetime | None = None

    def add(self, scope: str | None, organization: str | None, created: datetime) -> None:
        for name in (scope or "").split():
            if name not in self.scopes:
                self.scopes.append(name)
        if organization and organization not in self.organizations:
            self.organizations.append(organization)
        if self.last_granted is None or created > self.last_granted:
            self.last_granted = created


def _live_tokens(user: Any) -> tuple[Any, Any]:
    """The person's access tokens that have not expired and refresh tokens not revoked nor past their life."""
    now = timezone.now()
    access = AccessToken.objects.filter(user=user, expires__gt=now, application__isnull=False)
    refresh = RefreshToken.objects.filter(user=user, revoked__isnull=True)
    lifetime = oauth2_settings.REFRESH_TOKEN_EXPIRE_SECONDS
    if lifetime:
        seconds = lifetime.total_seconds() if isinstance(lifetime, timedelta) else lifetime
        refresh = refresh.filter(created__gt=now - timedelta(seconds=seconds))
    return access, refresh


def user_authorized_clients(user: Any) -> list[AuthorizedClient]:
    """Every client that holds a live token for ``user``, newest grant first. Three queries, whatever the count.

    (A read for one person's own tokens, not tenant data; it lives here rather than in ``selectors`` only
    because this page is its one reader.)
    """
    access, refresh = _live_tokens(user)
    rows = [
        *access.values_list("application_id", "scope", "binding__organization__name", "created"),
        *refresh.values_list("application_id", "access_token__scope", "access_token__binding__organization__name",
                             "created"),
    ]
    clients = OAuthClient.objects.filter(pk__in={row[0] for row in rows}).select_related("organization")
    listed = {client.pk: AuthorizedClient(client=client) for client in clients}
    for client_pk, scope, organization, created in sorted(rows, key=lambda row: row[3]):
        if client_pk in listed:
            listed[client_pk].add(scope, organization, created)
    return sorted(listed.values(), key=_last_granted, reverse=True)


def _last_granted(item: AuthorizedClient) -> datetime:
    assert item.last_granted is not None  # a client is listed for its token rows, and each row was added
    return item.last_granted


@never_cache
@login_required
@require_http_methods(["GET", "HEAD"])
def authorized_apps(request: AuthenticatedHttpRequest) -> HttpResponse:
    return render(request, "oauthapps/authorized_apps.html", {"authorized": user_authorized_clients(request.user)})


@login_required
@require_POST
def authorized_app_revoke(request: AuthenticatedHttpRequest, client_pk: int) -> HttpResponse:
    """Withdraw a client's access to the signed-in person: every token it holds for them stops working."""
    access, refresh = _live_tokens(request.user)
    client = (
        OAuthClient.objects.filter(pk=client_pk)
        .filter(Q(pk__in=access.values("application_id")) | Q(pk__in=refresh.values("application_id")))
        .first()
    )
    if client is None:  # not a client of this person's: the same 404 as a missing one
        raise Http404("No such authorized application.")
    oauth_consent_revoke(caller=Caller.for_person(request.user), client=client)
    messages.success(request, f"{client.name} no longer has access to your account.")
    return redirect("authorized-apps")
