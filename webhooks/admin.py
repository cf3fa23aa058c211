"""Webhook endpoints and deliveries in the admin. The signing secret is never shown (not even encrypted);
changes and resends go through the services, audited under the staff user."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts.models import Organization
from portal.callers import Caller
from webhooks import services
from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint


def _staff_caller(organization: Organization, request: HttpRequest) -> Caller:
    user = request.user
    if not isinstance(user, AbstractBaseUser):  # the admin site lets only signed-in staff in
        raise PermissionDenied
    return Caller.system(organization, actor=user)


class DeliveryInline(admin.TabularInline):
    model = WebhookDelivery
    fields = ("event", "status", "attempt_count", "next_attempt_at", "created_at")
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = True
    ordering = ("-created_at",)


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ("url", "organization", "enabled", "failing_since", "created_at")
    list_filter = ("enabled",)
    search_fields = ("url", "organization__name", "organization__slug")
    list_select_related = ("organization",)
    fields = ("organization", "url", "description", "event_types", "enabled", "disabled_at", "disabled_reason",
              "failing_since", "created_by", "created_at", "updated_at")
    readonly_fields = ("organization", "url", "event_types", "disabled_at", "disabled_reason", "failing_since",
                       "created_by", "created_at", "updated_at")
    inlines = [DeliveryInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # registered by the organization, which alone may see the secret once

    def save_model(self, request: HttpRequest, obj: WebhookEndpoint, form: Any, change: bool) -> None:
        current = WebhookEndpoint.objects.get(pk=obj.pk)
        services.webhook_endpoint_update(caller=_staff_caller(obj.organization, request), endpoint=current,
                                         description=obj.description, enabled=obj.enabled)

    def delete_model(self, request: HttpRequest, obj: WebhookEndpoint) -> None:
        services.webhook_endpoint_delete(caller=_staff_caller(obj.organization, request), endpoint=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> None:
        for endpoint in queryset.select_related("organization"):
            self.delete_model(request, endpoint)


class AttemptInline(admin.TabularInline):
    model = WebhookAttempt
    fields = ("at", "status_code", "duration_ms", "error", "response_body")
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ("event_id", "event_type", "endpoint", "status", "attempt_count", "next_attempt_at", "created_at")
    list_filter = ("status", "event__type")
    search_fields = ("event__event_id", "endpoint__url", "endpoint__organization__slug")
    list_select_related = ("event", "endpoint", "endpoint__organization")
    readonly_fields = ("event", "endpoint", "status", "attempt_count", "next_attempt_at", "locked_until",
                       "created_at", "updated_at", "payload")
    fields = readonly_fields
    inlines = [AttemptInline]
    actions = ["resend"]

    @admin.display(description="webhook-id")
    def event_id(self, delivery: WebhookDelivery) -> str:
        return delivery.event.event_id

    @admin.display(description="type")
    def event_type(self, delivery: WebhookDelivery) -> str:
        return delivery.event.type

    @admin.display(description="data")
    def payload(self, delivery: WebhookDelivery) -> Any:
        return delivery.event.data

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None and super().has_change_permission(request)

    @admin.action(description="Resend the selected deliveries (same webhook-id)")
    def resend(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        count = 0
        for delivery in queryset.select_related("endpoint__organization"):
            services.webhook_delivery_retry(caller=_staff_caller(delivery.endpoint.organization, request),
                                            delivery=delivery)
            count += 1
        messages.success(request, f"{count} deliveries are sent again.")
