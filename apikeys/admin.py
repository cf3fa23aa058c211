"""Staff screens for applications and API keys; every change goes through ``apikeys.services`` as a system
caller with the staff user as the actor, so the admin writes the same audit rows as the dashboard and the API.

Keys are never edited here, only made and revoked. A new key's plaintext is shown once, on the page the add
form redirects to (stashed encrypted in the session with ``portal.showonce``, popped by that page); no other
admin page shows a secret or a hash.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone

from accounts.forms import add_service_errors
from apikeys import services
from apikeys.models import ApiKey, Application
from portal import scopes as scope_registry
from portal.callers import Caller
from portal.conf import portal_settings
from portal.showonce import pop_secret, stash_secret


def staff_caller(application: Application, request: HttpRequest) -> Caller:
    """Staff act on an organization's applications with every scope, audited under their own name."""
    return Caller.system(application.organization, actor=request.user)


class ApplicationForm(forms.ModelForm):
    class Meta:
        model = Application
        fields = ("organization", "name", "description")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        organization = cleaned.get("organization") or getattr(self.instance, "organization", None)
        name = (cleaned.get("name") or "").strip()
        # The service refuses a duplicate name in any letter case; say so in the form, not with an error page.
        if organization and name and Application.objects.filter(
            organization=organization, name__iexact=name
        ).exclude(pk=self.instance.pk).exists():
            self.add_error("name", "An application with this name already exists in this organization.")
        return cleaned


@admin.register(Application)
class ApplicationAdmin(admin.ModelAdmin):
    form = ApplicationForm
    list_display = ("name", "organization", "created_by", "created_at", "updated_at")
    list_select_related = ("organization", "created_by")
    list_filter = (("organization", admin.RelatedOnlyFieldListFilter),)
    search_fields = ("name", "organization__name", "organization__slug")
    autocomplete_fields = ("organization",)
    readonly_fields = ("created_by", "created_at", "updated_at")
    date_hierarchy = "created_at"

    def get_fields(self, request: HttpRequest, obj: Application | None = None) -> tuple[str, ...]:
        if obj is None:
            return ("organization", "name", "description")
        return ("organization", "name", "description", *self.readonly_fields)

    def get_readonly_fields(self, request: HttpRequest, obj: Application | None = None) -> tuple[str, ...]:
        # An application never moves to another organization: its keys and clients belong there.
        if obj is not None:
            return ("organization", *self.readonly_fields)
        return self.readonly_fields

    def save_model(self, request: HttpRequest, obj: Application, form: forms.ModelForm, change: bool) -> None:
        if change:
            stored = Application.objects.get(pk=obj.pk)
            services.application_update(caller=staff_caller(stored, request), application=stored,
                                        name=form.cleaned_data["name"], description=form.cleaned_data["description"])
            return
        created = services.application_create(
            caller=staff_caller(obj, request), name=form.cleaned_data["name"],
            description=form.cleaned_data["description"],
        )
        obj.pk, obj.created_by, obj.created_at = created.pk, created.created_by, created.created_at
        obj._state.adding = False
        obj._state.db = created._state.db

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> tuple[Any, Any, set[str], Any]:
        deleted, model_count, _perms_needed, protected = super().get_deleted_objects(objs, request)
        # Keys, clients and tokens have no delete permission of their own (they are revoked, audited, not deleted
        # by hand); here ``application_delete`` revokes and removes them, so only the application's permission counts.
        return deleted, model_count, set(), protected

    def delete_model(self, request: HttpRequest, obj: Application) -> None:
        # Revokes the application's keys and removes its OAuth clients, each audited.
        services.application_delete(caller=staff_caller(obj, request), application=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Application]) -> None:
        for application in queryset.select_related("organization"):
            try:
                self.delete_model(request, application)
            except ValidationError as error:
                self.message_user(request, f"{application}: {' '.join(error.messages)}", messages.ERROR)


# --- Show-once add pages -------------------------------------------------------------------------------------


class ShowOnceAddMixin:
    """An add page that makes the object through a service and shows its secret once, on the next page.

    The add form is a plain ``forms.Form`` (``add_form_class``): the object is made by the service, not by
    ``ModelForm.save()``, so the service's rules and audit row hold, and its ``ValidationError`` shows in the
    form. On success the secret is stashed, encrypted, in the session and the browser is redirected to
    ``<model>/created/``, which pops it: a reload, the back button or any other admin page finds nothing.
    """

    add_form_class: type[forms.Form]
    show_once_kind: str  # tells this page's stash from the dashboard's (and from the other admin's)
    show_once_title: str

    def create_with_service(self, request: HttpRequest, form: forms.Form) -> tuple[Any, dict[str, Any]]:
        """Make the object; return it and the show-once payload (``secrets``: label/value pairs, ``details``)."""
        raise NotImplementedError

    def _created_url_name(self) -> str:
        return f"{self.opts.app_label}_{self.opts.model_name}_created"

    def get_urls(self) -> list[URLPattern]:
        created = path("created/", self.admin_site.admin_view(self.created_view), name=self._created_url_name())
        return [created, *super().get_urls()]

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context: dict | None = None) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = self.add_form_class(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            try:
                obj, payload = self.create_with_service(request, form)
            except scope_registry.ScopeEscalation as refused:
                form.add_error(None, str(refused))
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                self.log_addition(request, obj, [{"added": {}}])
                stash_secret(request, {"kind": self.show_once_kind, **payload})
                return redirect(f"admin:{self._created_url_name()}")
        adminform = helpers.AdminForm(form, [(None, {"fields": list(form.fields)})], {}, model_admin=self)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Add {self.opts.verbose_name}",
            "subtitle": None,
            "adminform": adminform,
            "object_id": None,
            "original": None,
            "is_popup": False,
            "to_field": None,
            "media": self.media + adminform.media,
            "inline_admin_formsets": [],
            "errors": helpers.AdminErrorList(form, []),
            "preserved_filters": self.get_preserved_filters(request),
            "show_save_and_add_another": False,
            "show_save_and_continue": False,
            **(extra_context or {}),
        }
        return self.render_change_form(request, context, add=True, form_url=form_url)

    def created_view(self, request: HttpRequest) -> HttpResponse:
        """The one page that shows the new secret. ``admin_view`` adds ``never_cache``; no-store is set too."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        payload = pop_secret(request, kind=self.show_once_kind)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": self.show_once_title if payload else "Already shown",
            "payload": payload,
            "changelist_url": reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist"),
        }
        response = TemplateResponse(request, "admin/show_once.html", context, status=200 if payload else 410)
        response["Cache-Control"] = "no-store"
        return response


# --- API keys ----------------------------------------------------------------------------------------------


class KeyStatusFilter(admin.SimpleListFilter):
    """The statuses of ``ApiKey.status``, as queries."""

    title = "status"
    parameter_name = "status"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("active", "Active"), ("rotating", "Rotating (old key in its grace period)"),
                ("expired", "Expired"), ("revoked", "Revoked")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> QuerySet[ApiKey]:
        now = timezone.now()
        live = queryset.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now), revoked_at__isnull=True)
        match self.value():
            case "active":
                return live.filter(rotated_at__isnull=True)
            case "rotating":
                return live.filter(rotated_at__isnull=False)
            case "expired":
                return queryset.filter(revoked_at__isnull=True, expires_at__lte=now)
            case "revoked":
                return queryset.filter(revoked_at__isnull=False)
        return queryset


class ApplicationChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Application) -> str:
        return f"{obj.organization.name} ({obj.organization.slug}) / {obj.name}"


class ApiKeyAddForm(forms.Form):
    """What ``api_key_create`` takes. Staff act as a system caller, so every scope is offered."""

    application = ApplicationChoiceField(
        queryset=Application.objects.select_related("organization").order_by("organization__name", "name"),
        label="Organization / application", help_text="The key belongs to this application and its organization.",
    )
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
        self.fields["scope_preset"].choices = [("", "---------"), *preset_choices]
        self.fields["scopes"].choices = [(name, f"{name} — {text}") for name, text in scope_registry.registry().items()]
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
        base_url = portal_settings.BASE_URL.rstrip("/")
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
            services.api_key_revoke(caller=Caller.system(key.organization, actor=request.user), key=key,
                                    reason="revoked by staff in the admin")
            revoked += 1
        self.message_user(request, f"Revoked {revoked} key(s).", messages.SUCCESS)
