"""Staff read what each credential used and the unused-key notices sent; both are written by the portal only."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from security.models import ScopeUsage, UnusedKeyNotice


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return obj is None and super().has_change_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(ScopeUsage)
class ScopeUsageAdmin(ReadOnlyAdmin):
    list_display = ("scope", "api_key", "oauth_client", "user_id", "organization", "last_used_at")
    list_select_related = ("api_key", "oauth_client", "organization")
    list_filter = ("scope",)
    search_fields = ("=api_key__public_id", "=oauth_client__client_id", "organization__slug")
    fields = list_display
    readonly_fields = fields


@admin.register(UnusedKeyNotice)
class UnusedKeyNoticeAdmin(ReadOnlyAdmin):
    list_display = ("api_key", "idle_since", "revoke_after", "sent_at")
    list_select_related = ("api_key",)
    search_fields = ("=api_key__public_id",)
    fields = list_display
    readonly_fields = fields
