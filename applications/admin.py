"""Staff screens for applications; every change goes through ``applications.services`` as a system caller with
the staff user as the actor, so the admin writes the same audit rows as the dashboard and the API."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest

from applications import services
from applications.models import Application
from portal.admin import adopt_created, staff_caller


class ApplicationForm(forms.ModelForm):
    class Meta:
        model = Application
        fields = ("organization", "name", "description")

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
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
        adopt_created(obj, created, "created_by", "created_at")

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
