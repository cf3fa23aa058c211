"""Staff screens for resource servers. Every change goes through ``gateway.services`` (audited under the staff
member's name). A new server's secret, and a rotated one, is shown once on the page the admin redirects to
(``portal.admin.ShowOnceAddMixin``); the stored hash is never shown."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from gateway import services
from gateway.models import ResourceServer
from portal import scopes as scope_registry
from portal.admin import ShowOnceAddMixin
from portal.showonce import stash_secret


def scope_choices() -> list[tuple[str, str]]:
    # Read when the form is made: a site's own scopes come from settings.
    return [(name, f"{name} — {text}") for name, text in scope_registry.registry().items()]


class ResourceServerAddForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="The service, e.g. “orders-api”.")
    scopes = forms.MultipleChoiceField(widget=forms.CheckboxSelectMultiple, help_text="The scopes it serves.")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        scopes = self.fields["scopes"]
        assert isinstance(scopes, forms.MultipleChoiceField)  # declared above; the form's copy of it
        scopes.choices = scope_choices()


class ResourceServerChangeForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(widget=forms.CheckboxSelectMultiple, help_text="The scopes it serves.")

    class Meta:
        model = ResourceServer
        fields = ("scopes",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        scopes = self.fields["scopes"]
        assert isinstance(scopes, forms.MultipleChoiceField)  # declared above; the form's copy of it
        scopes.choices = scope_choices()


@admin.register(ResourceServer)
class ResourceServerAdmin(ShowOnceAddMixin, admin.ModelAdmin):
    add_form_class = ResourceServerAddForm
    form = ResourceServerChangeForm
    show_once_kind = "admin_resource_server"
    show_once_title = "The resource server's credentials"

    list_display = ("name", "client_id", "served", "enabled", "created_at", "secret_rotated_at")
    list_filter = ("enabled",)
    search_fields = ("name", "=client_id")
    actions = ("rotate_secret", "disable_servers", "enable_servers")
    readonly_fields = ("name", "client_id", "enabled", "created_at", "secret_rotated_at", "disabled_at")
    fields = ("name", "client_id", "scopes", "enabled", "created_at", "secret_rotated_at", "disabled_at")

    def has_delete_permission(self, request: HttpRequest, obj: ResourceServer | None = None) -> bool:
        return False  # disable instead: the audit log and the request log keep naming it

    @admin.display(description="scopes served")
    def served(self, obj: ResourceServer) -> str:
        return " ".join(obj.scopes)

    def create_with_service(self, request: HttpRequest, form: forms.Form) -> tuple[ResourceServer, dict[str, Any]]:
        server, secret = services.resource_server_create(name=form.cleaned_data["name"],
                                                         scopes=form.cleaned_data["scopes"], actor=request.user)
        return server, self.payload(server, secret)

    @staticmethod
    def payload(server: ResourceServer, secret: str) -> dict[str, Any]:
        return {
            "secrets": [["Client secret", secret]],
            "details": [["Name", server.name], ["Client id", server.client_id],
                        ["Scopes served", " ".join(server.scopes)]],
            "object_url": reverse("admin:gateway_resourceserver_change", args=[server.pk]),
        }

    def save_model(self, request: HttpRequest, obj: ResourceServer, form: forms.Form, change: bool) -> None:
        stored = ResourceServer.objects.get(pk=obj.pk)
        try:
            services.resource_server_set_scopes(server=stored, scopes=form.cleaned_data["scopes"],
                                                actor=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))

    @admin.action(description="Rotate the secret of the selected server (shown once)", permissions=["change"])
    def rotate_secret(self, request: HttpRequest, queryset: QuerySet[ResourceServer]) -> HttpResponse | None:
        if queryset.count() != 1:
            self.message_user(request, "Choose exactly one server: its new secret is shown once.", messages.ERROR)
            return None
        server, secret = services.resource_server_rotate_secret(server=queryset.get(), actor=request.user)
        stash_secret(request, {"kind": self.show_once_kind, **self.payload(server, secret)})
        return redirect(f"admin:{self._created_url_name()}")

    @admin.action(description="Disable the selected servers", permissions=["change"])
    def disable_servers(self, request: HttpRequest, queryset: QuerySet[ResourceServer]) -> None:
        servers = list(queryset.filter(enabled=True))
        for server in servers:
            services.resource_server_disable(server=server, actor=request.user)
        self.message_user(request, f"Disabled {len(servers)} resource server(s).", messages.SUCCESS)

    @admin.action(description="Enable the selected servers", permissions=["change"])
    def enable_servers(self, request: HttpRequest, queryset: QuerySet[ResourceServer]) -> None:
        servers = list(queryset.filter(enabled=False))
        for server in servers:
            services.resource_server_enable(server=server, actor=request.user)
        self.message_user(request, f"Enabled {len(servers)} resource server(s).", messages.SUCCESS)
