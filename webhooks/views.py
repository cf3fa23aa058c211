"""Dashboard pages for webhook endpoints: list and register (secret shown once), one endpoint with its
delivery log, resend, test event, rotate, change, delete. Every member reads; developers and up change."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from accounts.http import AuthenticatedHttpRequest
from accounts.roles import Role, can_manage_credentials
from accounts.selectors import OrgAccess, access_organization_by_slug
from portal.forms import add_service_errors, posted_data
from portal.showonce import show_once_page, show_once_redirect
from webhooks import selectors, services
from webhooks.forms import WebhookEndpointForm

SHOW_ONCE_KIND = "webhook_secret"


def _access(request: AuthenticatedHttpRequest, slug: str) -> OrgAccess:
    min_role = None if request.method in ("GET", "HEAD") else Role.DEVELOPER
    return access_organization_by_slug(request.user, slug, min_role=min_role)


def _show_once(request: HttpRequest, access: OrgAccess, endpoint, secret: str) -> HttpResponse:
    return show_once_redirect(request, kind=SHOW_ONCE_KIND, organization=access.organization.slug,
                              payload={"endpoint_id": endpoint.pk, "url": endpoint.url, "secret": secret},
                              to="webhook-secret")


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def webhook_list(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    access = _access(request, slug)
    form = WebhookEndpointForm(posted_data(request))
    if request.method == "POST" and form.is_valid():
        try:
            endpoint, secret = services.webhook_endpoint_create(caller=access.caller, **form.service_arguments())
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return _show_once(request, access, endpoint, secret)
    context = {"access": access, "endpoints": selectors.organization_endpoints(access.organization.pk),
               "can_manage": can_manage_credentials(access.role), "form": form}
    return render(request, "webhooks/webhook_list.html", context, status=400 if form.errors else 200)


@never_cache
@login_required
@require_http_methods(["GET", "HEAD"])
def webhook_secret(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    """The one page that shows a new signing secret; a reload finds nothing (410)."""
    access = _access(request, slug)
    return show_once_page(request, kind=SHOW_ONCE_KIND, organization=access.organization.slug,
                          template="webhooks/secret_shown.html", gone_template="webhooks/secret_already_shown.html",
                          context={"access": access}, payload_context=lambda payload: {})


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def webhook_detail(request: AuthenticatedHttpRequest, slug: str, endpoint_id: int) -> HttpResponse:
    access = _access(request, slug)
    endpoint = selectors.access_endpoint_by_id(access.organization.pk, endpoint_id)
    all_events = "*" in endpoint.event_types
    initial = {"url": endpoint.url, "description": endpoint.description, "all_events": all_events,
               "event_types": [] if all_events else endpoint.event_types, "enabled": endpoint.enabled}
    form = WebhookEndpointForm(posted_data(request), initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.webhook_endpoint_update(caller=access.caller, endpoint=endpoint, **form.service_arguments())
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "The endpoint has been saved.")
            return redirect("webhook-detail", slug, endpoint.pk)
    context = {"access": access, "endpoint": endpoint, "form": form,
               "deliveries": selectors.endpoint_deliveries(endpoint)[:50],
               "can_manage": can_manage_credentials(access.role)}
    return render(request, "webhooks/webhook_detail.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def webhook_test(request: AuthenticatedHttpRequest, slug: str, endpoint_id: int) -> HttpResponse:
    access = _access(request, slug)
    endpoint = selectors.access_endpoint_by_id(access.organization.pk, endpoint_id)
    services.webhook_endpoint_send_test(caller=access.caller, endpoint=endpoint)
    messages.success(request, "A webhook.test event is on its way. Its delivery appears below.")
    return redirect("webhook-detail", slug, endpoint.pk)


@login_required
@require_POST
def webhook_resend(request: AuthenticatedHttpRequest, slug: str, endpoint_id: int, delivery_id: int) -> HttpResponse:
    access = _access(request, slug)
    endpoint = selectors.access_endpoint_by_id(access.organization.pk, endpoint_id)
    delivery = selectors.access_delivery_by_id(endpoint, delivery_id)
    services.webhook_delivery_retry(caller=access.caller, delivery=delivery)
    messages.success(request, f"Delivery {delivery.event.event_id} is sent again.")
    return redirect("webhook-detail", slug, endpoint.pk)


@login_required
@require_POST
def webhook_rotate(request: AuthenticatedHttpRequest, slug: str, endpoint_id: int) -> HttpResponse:
    access = _access(request, slug)
    endpoint = selectors.access_endpoint_by_id(access.organization.pk, endpoint_id)
    endpoint, secret = services.webhook_endpoint_rotate_secret(caller=access.caller, endpoint=endpoint)
    return _show_once(request, access, endpoint, secret)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def webhook_delete(request: AuthenticatedHttpRequest, slug: str, endpoint_id: int) -> HttpResponse:
    access = _access(request, slug)
    endpoint = selectors.access_endpoint_by_id(access.organization.pk, endpoint_id)
    if request.method == "POST":
        services.webhook_endpoint_delete(caller=access.caller, endpoint=endpoint)
        messages.success(request, f"The endpoint {endpoint.url} has been deleted.")
        return redirect("webhook-list", slug)
    return render(request, "webhooks/webhook_confirm_delete.html", {"access": access, "endpoint": endpoint})
