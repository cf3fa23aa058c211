"""The audit log in the admin: searchable, filterable and strictly read-only."""

from __future__ import annotations

import json

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html

from audit.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Audit events are written by services and never added, edited or deleted by anyone.

    Without the change permission Django shows each event as a read-only page and refuses a POST to
    it with 403; without the delete permission there is no delete page and no bulk delete action.
    """

    list_display = ("created_at", "action", "actor_label", "target_type", "target_label", "organization",
                    "ip_address")
    list_filter = ("action", ("organization", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("organization",)
    search_fields = ("actor_label", "target_label")
    date_hierarchy = "created_at"
    actions = None
    fields = ("created_at", "action", "organization", "actor_label", "actor_user", "actor_credential_type",
              "actor_credential_id", "target_type", "target_id", "target_label", "metadata_display", "ip_address",
              "user_agent")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: AuditEvent | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: AuditEvent | None = None) -> bool:
        return False

    @admin.display(description="metadata")
    def metadata_display(self, obj: AuditEvent) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.metadata, indent=2, sort_keys=True, default=str))
