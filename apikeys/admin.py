"""Staff screens for API keys; every change goes through ``apikeys.services`` as a system caller with the staff
user as the actor, so the admin writes the same audit rows as the dashboard and the API.

Keys are never edited here, only made and revoked. A new key's plaintext is shown once, on the page the add
form redirects to (stashed encrypted in the session with ``portal.showonce``, popped by that page); no other
admin page shows a secret or a hash.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse

from apikeys import services
from apikeys.models import ApiKey, ApiKeyQuerySet, KeyStatus
from applications.forms import ApplicationChoiceField
from applications.models import Application
from portal import scopes as scope_registry
from portal.admin import ShowOnceAddMixin, staff_caller
from portal.conf import portal_settings
from portal.showonce import public_base_url


class KeyStatusFilter(admin.SimpleListFilter):
    """The statuses of ``ApiKey.status``, as queries."""

    title = "status"
    parameter_name = "status"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return list(KeyStatus.choices)

    def queryset(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> QuerySet[ApiKey]:
        status = self.value()
        if status is not None and status in KeyStatus.values:
            assert isinstance(queryset, ApiKeyQuerySet)  # the admin's rows come from ApiKey.objects
            return queryset.with_status(status)
        return queryset


class ApiKeyAddForm(forms.Form):
    """What ``api_key_create`` takes. Staff act as a system caller, so every scope is offered."""

    application = ApplicationChoiceField(help_text="The key belongs to this application and its organization.")
    name = forms.CharField(max_length=120, help_text="Where the key is used, e.g. “CI deploys”.")
    scope_preset = forms.ChoiceField(label="Scope preset", required=False)
    scopes = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple,
                                       help_text="Added to the preset; or choose scopes without a preset.")
    expires_in_days = forms.IntegerField(
        label="Expires in days", required=False, min_value=1,
        help_text="Empty: never expires (only where the organization allows keys without expiry).",
    )
    environment = forms.ChoiceField(choices=ApiKey.Environment.choices, initial=ApiKey.Environment.LIVE)
    rate_limit_per_minute = forms.IntegerField(label="Rate limit (requests a minute)", required=False, min_value=1)
    allowed_ips = forms.CharField(
        label="Allowed IP ranges", required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One address or CIDR range a line. Empty: any address.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Read when the form is made: a site's own scopes and presets come from settings.
        presets = scope_registry.presets()
        preset_choices = [(name, f"{name} ({', '.join(values)})") for name, values in presets.items()]
        scope_preset, scopes = self.fields["scope_preset"], self.fields["scopes"]
        assert isinstance(scope_preset, forms.ChoiceField) and isinstance(scopes, forms.ChoiceField)  # declared above
        scope_preset.choices = [("", "---------"), *preset_choices]
        scopes.choices = [(name, f"{name} — {text}") for name, text in scope_registry.registry().items()]
        self.fields["expires_in_days"].initial = portal_settings.KEY_DEFAULT_EXPIRY_DAYS


@admin.register(ApiKey)
class ApiKeyAdmin(ShowOnceAddMixin, admin.ModelAdmin):
    """API keys, found by public id. Never edited: made through the add page (shown once), revoked by the action.

    ``key_hash`` is in no field list; the change page is read-only (``has_change_permission`` is false for an
    object) and there is no delete: a revoked key stays as the record of what it did.
    """

    add_form_class = ApiKeyAddForm
    show_once_kind = "admin_api_key"
    show_once_title = "Your new API key"

    list_display = ("public_id", "masked", "name", "organization", "application", "environment", "status_display",
                    "created_at", "expires_at", "last_used_at")
    list_display_links = ("public_id", "masked")
    list_select_related = ("organization", "application")
    list_filter = (KeyStatusFilter, ("organization", admin.RelatedOnlyFieldListFilter), "environment")
    search_fields = ("=public_id", "name", "organization__slug")
    search_help_text = "A public id (or a masked key such as dp_live_4bX9…), a key name or an organization slug."
    date_hierarchy = "created_at"
    actions = ("revoke_keys",)
    fields = ("public_id", "masked", "name", "organization", "application", "environment", "status_display",
              "scopes", "expires_at", "rate_limit_per_minute", "allowed_ips", "created_by", "created_by_label",
              "created_at", "last_used_at", "rotated_at", "replaced_by", "revoked_at")
    readonly_fields = fields
    exclude = ("key_hash",)

    def has_change_permission(self, request: HttpRequest, obj: ApiKey | None = None) -> bool:
        # Without an object this guards the changelist and the revoke action; a key itself is never edited.
        return obj is None and super().has_change_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj: ApiKey | None = None) -> bool:
        return False  # revoke instead: the row stays as the record of what the key did

    def get_search_results(self, request: HttpRequest, queryset: QuerySet[ApiKey],
                           search_term: str) -> tuple[QuerySet[ApiKey], bool]:
        # A key as lists show it (``dp_live_<public id>…``) or as someone pasted it: search by its public id.
        match = re.match(r"^\s*[a-z][a-z0-9]*_(?:live|test)_([0-9A-Za-z]{12})", search_term)
        if match:
            return queryset.filter(public_id=match[1]), False
        return super().get_search_results(request, queryset, search_term)

    @admin.display(description="key", ordering="public_id")
    def masked(self, obj: ApiKey) -> str:
        return obj.masked

    @admin.display(description="status")
    def status_display(self, obj: ApiKey) -> str:
        return obj.status

    def create_with_service(self, request: HttpRequest, form: forms.Form) -> tuple[ApiKey, dict[str, Any]]:
        data = form.cleaned_data
        application: Application = data["application"]
        allowed_ips = [line.strip() for line in (data["allowed_ips"] or "").splitlines() if line.strip()]
        key, plaintext = services.api_key_create(
            caller=staff_caller(application, request),
            application=application,
            name=data["name"],
            scope_preset=data["scope_preset"] or None,
            scopes=data["scopes"],
            expires_in_days=data["expires_in_days"],
            environment=data["environment"],
            rate_limit_per_minute=data["rate_limit_per_minute"],
            allowed_ips=allowed_ips,
        )
        base_url = public_base_url(request)
        payload = {
            "secrets": [["API key", plaintext]],
            "details": [
                ["Name", key.name], ["Public id", key.public_id], ["Organization", application.organization.name],
                ["Application", application.name], ["Environment", key.environment],
                ["Scopes", " ".join(key.scopes)],
                ["Expires", f"{key.expires_at:%Y-%m-%d %H:%M} UTC" if key.expires_at else "never"],
            ],
            "snippet": f'curl "{base_url}/api/v1/hello?name=Test" \\\n  -H "X-API-Key: {plaintext}"',
            "object_url": reverse("admin:apikeys_apikey_change", args=[key.pk]),
        }
        return key, payload

    @admin.action(description="Revoke selected keys", permissions=["change"])
    def revoke_keys(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        revoked = 0
        for key in queryset.filter(revoked_at__isnull=True).select_related("organization"):
            services.api_key_revoke(caller=staff_caller(key, request), key=key,
                                    reason="revoked by staff in the admin")
            revoked += 1
        self.message_user(request, f"Revoked {revoked} key(s).", messages.SUCCESS)
