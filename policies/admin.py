"""Staff see each organization's credential policy; owners and admins set it (the Security page, the API)."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from policies.models import CredentialPolicy


@admin.register(CredentialPolicy)
class CredentialPolicyAdmin(admin.ModelAdmin):
    list_display = ("organization", "max_key_lifetime_days", "live_keys_need_ip_ranges",
                    "revoke_unused_keys_after_days", "updated_at")
    list_select_related = ("organization",)
    search_fields = ("organization__slug", "organization__name")
    fields = ("organization", "max_key_lifetime_days", "allowed_scopes", "live_keys_need_ip_ranges",
              "revoke_unused_keys_after_days", "updated_at")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # a change goes through the audited service, from the Security page or the API

    def has_change_permission(self, request: HttpRequest, obj: CredentialPolicy | None = None) -> bool:
        return obj is None and super().has_change_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj: CredentialPolicy | None = None) -> bool:
        return False
