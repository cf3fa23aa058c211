"""Leak reports in the admin: read-only. They are written when a credential is revoked for a leak, and kept as
the record of where it was found; staff never add, edit or delete them (the token itself was never stored)."""

from __future__ import annotations

from django.contrib import admin

from leaks.models import LeakReport
from portal.admin import RecordAdminMixin


@admin.register(LeakReport)
class LeakReportAdmin(RecordAdminMixin, admin.ModelAdmin):
    list_display = ("reported_at", "credential_label", "kind", "via", "source", "url", "organization")
    list_filter = ("via", "kind", ("organization", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("organization",)
    search_fields = ("credential_label", "api_key__public_id", "url")
    date_hierarchy = "reported_at"
    fields = ("reported_at", "organization", "kind", "credential_label", "api_key", "oauth_client", "via", "url",
              "source", "token_type")
    readonly_fields = fields
