"""The e-mail outbox in the admin: who, what kind, whether it went. Never the content (an invitation's link
is a credential)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from notifications.models import OutboundEmail


@admin.register(OutboundEmail)
class OutboundEmailAdmin(admin.ModelAdmin):
    list_display = ("kind", "recipients", "subject", "status", "attempt_count", "created_at", "sent_at")
    list_filter = ("status", "kind")
    search_fields = ("subject", "to")
    fields = ("kind", "to", "subject", "status", "attempt_count", "last_error", "next_attempt_at", "created_at",
              "sent_at")
    readonly_fields = fields

    @admin.display(description="to")
    def recipients(self, email: OutboundEmail) -> str:
        return ", ".join(email.to)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
