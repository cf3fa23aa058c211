"""Pieces shared by the admin screens of every app: acting as staff through the services, and the add page that
shows a new secret once (``portal.showonce``). And the core's own screen: the mails waiting for the worker."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin
from django.contrib.admin import helpers
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone

from portal import mail
from portal import scopes as scope_registry
from portal.callers import Caller
from portal.forms import add_service_errors
from portal.models import PendingMail
from portal.showonce import pop_secret, stash_secret

if TYPE_CHECKING:
    # The mixins below are only ever mixed into a ModelAdmin, whose attributes they use; ModelAdmin takes no type
    # parameter at run time (django-stubs-ext's monkeypatch is not installed), so both are for mypy alone.
    _ModelAdmin = admin.ModelAdmin[Any]
    _PendingMailModelAdmin = admin.ModelAdmin[PendingMail]
else:
    _ModelAdmin = object
    _PendingMailModelAdmin = admin.ModelAdmin


def staff_user(request: HttpRequest) -> AbstractBaseUser:
    """The signed-in staff member behind an admin request (the admin site lets no one else in)."""
    user = request.user
    if not isinstance(user, AbstractBaseUser):
        raise PermissionDenied
    return user


def staff_caller(owned: Any, request: HttpRequest) -> Caller:
    """Staff act on what an organization owns (``owned.organization``) with every scope, audited under their own
    name."""
    return Caller.system(owned.organization, actor=staff_user(request))


def adopt_created(obj: models.Model, created: models.Model, *fields: str) -> None:
    """Make the admin's unsaved ``obj`` the row a service made instead of ``save_model`` (the admin goes on to log
    and redirect with ``obj``): its primary key, the given ``fields``, and its saved state."""
    obj.pk = created.pk
    for name in fields:
        setattr(obj, name, getattr(created, name))
    obj._state.adding = False
    obj._state.db = created._state.db


class RecordAdminMixin(_ModelAdmin):
    """Rows that are a record (audit events, leak reports): written by services, never added, edited or deleted by
    anyone. Without the change permission Django shows each row as a read-only page and refuses a POST to it with
    403; without the delete permission there is no delete page and no bulk delete action."""

    actions = None

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ShowOnceAddMixin(_ModelAdmin):
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

    def add_view(self, request: HttpRequest, form_url: str = "",
                 extra_context: dict[str, Any] | None = None) -> HttpResponse:
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
        # AdminForm (like AdminErrorList below) works with any form; the stub asks for a ModelForm.
        adminform = helpers.AdminForm(form, [(None, {"fields": list(form.fields)})], {},  # type: ignore[arg-type]
                                      model_admin=self)
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
            # AdminErrorList reads only the form's errors, a plain Form's as well; the stub asks for a ModelForm.
            "errors": helpers.AdminErrorList(form, []),  # type: ignore[arg-type]
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


@admin.register(PendingMail)
class PendingMailAdmin(RecordAdminMixin, _PendingMailModelAdmin):
    """The mails the worker has still to send (``portal.mail``): to whom, about what, and how the tries went. Never
    the body: it may hold a verification, reset or invitation link. A mail that was sent is deleted, so every row
    here is one still to go; the worker's sweep and ``manage.py send_pending_mail`` send them."""

    list_display = ("subject", "kind", "recipient_list", "status", "attempts", "created_at", "next_attempt_at",
                    "last_failure")
    list_filter = ("kind",)
    search_fields = ("subject", "kind")
    date_hierarchy = "created_at"
    fields = ("subject", "kind", "recipient_list", "status", "attempts", "last_failure", "created_at", "claimed_at",
              "next_attempt_at")
    readonly_fields = fields

    @admin.display(description="recipients")
    def recipient_list(self, obj: PendingMail) -> str:
        return ", ".join(obj.recipients)

    @admin.display(description="status")
    def status(self, obj: PendingMail) -> str:
        now = timezone.now()
        if obj.claimed_at and obj.claimed_at >= now - timedelta(seconds=mail.CLAIM_SECONDS):
            return "being sent"
        if obj.attempts:
            return "failed, to be tried again"
        return "waiting for the worker"
