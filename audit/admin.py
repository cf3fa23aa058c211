"""The audit log in the admin: searchable, filterable and strictly read-only."""

from __future__ import annotations

import json

from django.contrib import admin
from django.utils.html import format_html

from audit.models import AuditEvent
from portal.admin import RecordAdminMixin


@admin.register(AuditEvent)
class AuditEventAdmin(RecordAdminMixin, admin.ModelAdmin):
    """Audit events are written by services and never added, edited or deleted by anyone."""

    list_display = ("created_at", "action", "actor_label", "target_type", "target_label", "organization",
                    "ip_address")
    list_filter = ("action", ("organization", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("organization",)
    search_fields = ("actor_label", "target_label")
    date_hierarchy = "created_at"
    fields = ("created_at", "action", "organization", "actor_label", "actor_user", "actor_credential_type",
              "actor_credential_id", "target_type", "target_id", "target_label", "metadata_display", "ip_address",
              "user_agent")
    readonly_fields = fields

    @admin.display(description="metadata")
    def metadata_display(self, obj: AuditEvent) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.metadata, indent=2, sort_keys=True, default=str))
