"""Staff screens for memberships, and the pieces the other account screens share (the membership inline, a
service's refusal as a message).

Staff are not members of the organizations they look after: they act as ``Caller.system``, which the
membership services treat as an owner (``accounts.memberships.services.team_role``), so the rules (last owner,
who may grant which role) and the audit rows stay in the services, with the staff user recorded as the actor."""

from __future__ import annotations

from typing import Any, ClassVar

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts.memberships.services import LAST_OWNER_MESSAGE, membership_change_role, membership_remove
from accounts.models import Membership
from accounts.roles import Role
from accounts.selectors import owner_count
from portal.admin import staff_user
from portal.callers import Caller


def error_text(error: ValidationError | PermissionDenied) -> str:
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return str(error) or "Not allowed."


class MembershipInline(admin.TabularInline):
    """Memberships shown read-only on a user's or an organization's page; they change through the services."""

    model = Membership
    readonly_fields: ClassVar[tuple[str, ...]] = ()
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# --- Memberships -------------------------------------------------------------------------------------------


class MembershipChangeForm(forms.ModelForm):
    class Meta:
        model = Membership
        fields = ("role",)

    def clean_role(self) -> str:
        role = self.cleaned_data["role"]
        # Checked here too so staff see the rule in the form; the service checks again under a lock.
        if (
            self.instance.role == Role.OWNER
            and role != Role.OWNER
            and owner_count(self.instance.organization) <= 1
        ):
            raise ValidationError(LAST_OWNER_MESSAGE)
        return role


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    form = MembershipChangeForm
    list_display = ("user", "organization", "role", "created_at")
    list_filter = ("role",)
    list_select_related = ("user", "organization")
    search_fields = ("user__email", "organization__name", "organization__slug")
    fields = ("organization", "user", "role", "created_at")
    readonly_fields = ("organization", "user", "created_at")
    actions = ("remove_members",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        # People join through invitations (see Invitations), or as owners of a new organization.
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Membership | None = None) -> bool:
        # Removal goes through the "remove" action, which keeps the last-owner rule and audits.
        return False

    def save_model(self, request: HttpRequest, obj: Membership, form: forms.ModelForm, change: bool) -> None:
        if "role" not in form.changed_data:
            return
        membership_change_role(
            caller=Caller.system(obj.organization, staff_user(request)),
            membership=obj,
            role=form.cleaned_data["role"],
        )

    @admin.action(description="Remove selected members from their organization", permissions=["change"])
    def remove_members(self, request: HttpRequest, queryset: QuerySet[Membership]) -> None:
        removed = 0
        for membership in queryset.select_related("organization", "user"):
            try:
                membership_remove(
                    caller=Caller.system(membership.organization, staff_user(request)),
                    membership=membership,
                )
            except (ValidationError, PermissionDenied) as error:
                self.message_user(request, f"{membership.user} in {membership.organization}: {error_text(error)}",
                                  messages.ERROR)
            else:
                removed += 1
        if removed:
            self.message_user(request, f"Removed {removed} member(s).", messages.SUCCESS)
