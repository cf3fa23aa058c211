"""Staff screens for invitations: inviting an address to an organization, revoking an invitation. Changes go
through ``accounts.invitations.services``."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from accounts.invitations.services import invitation_create, invitation_revoke
from accounts.models import Invitation
from portal.admin import adopt_created, staff_user
from portal.callers import Caller

# --- Invitations -------------------------------------------------------------------------------------------


class StatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("pending", "Pending"), ("accepted", "Accepted"), ("revoked", "Revoked"), ("expired", "Expired")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Invitation]) -> QuerySet[Invitation]:
        now = timezone.now()
        open_ = queryset.filter(accepted_at__isnull=True, revoked_at__isnull=True)
        match self.value():
            case "pending":
                return open_.filter(expires_at__gt=now)
            case "expired":
                return open_.filter(expires_at__lte=now)
            case "accepted":
                return queryset.filter(accepted_at__isnull=False)
            case "revoked":
                return queryset.filter(accepted_at__isnull=True, revoked_at__isnull=False)
        return queryset


class InvitationAddForm(forms.ModelForm):
    class Meta:
        model = Invitation
        fields = ("organization", "email", "role")

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        organization, email = cleaned.get("organization"), cleaned.get("email")
        # The service refuses this too; checking here shows it in the form instead of failing the request.
        if organization and email and organization.memberships.filter(user__email__iexact=email.strip()).exists():
            self.add_error("email", "This person is already a member.")
        return cleaned


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    """Invitations; the token only ever goes by e-mail and its hash is never shown."""

    list_display = ("email", "organization", "role", "status", "invited_by", "created_at", "expires_at")
    list_filter = (StatusFilter, "role")
    list_select_related = ("organization", "invited_by")
    search_fields = ("email", "organization__name", "organization__slug")
    exclude = ("token_hash",)
    readonly_fields = ("organization", "email", "role", "status", "invited_by", "created_at", "expires_at",
                       "accepted_at", "accepted_by", "revoked_at")
    autocomplete_fields = ("organization",)
    actions = ("revoke_invitations",)

    def get_fields(self, request: HttpRequest, obj: Invitation | None = None) -> tuple[str, ...]:
        if obj is None:
            return ("organization", "email", "role")
        return self.readonly_fields

    def get_readonly_fields(self, request: HttpRequest, obj: Invitation | None = None) -> tuple[str, ...]:
        return () if obj is None else self.readonly_fields

    def get_form(self, request: HttpRequest, obj: Invitation | None = None, change: bool = False,
                 **kwargs: Any) -> type[forms.ModelForm]:
        if obj is None:
            kwargs["form"] = InvitationAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def save_model(self, request: HttpRequest, obj: Invitation, form: forms.ModelForm, change: bool) -> None:
        if change:
            return
        invitation, _token = invitation_create(
            caller=Caller.system(form.cleaned_data["organization"], staff_user(request)),
            email=form.cleaned_data["email"],
            role=form.cleaned_data["role"],
        )
        adopt_created(obj, invitation, "token_hash", "expires_at")

    def has_delete_permission(self, request: HttpRequest, obj: Invitation | None = None) -> bool:
        return False

    @admin.display(description="status")
    def status(self, obj: Invitation) -> str:
        return obj.status

    @admin.action(description="Revoke selected invitations", permissions=["change"])
    def revoke_invitations(self, request: HttpRequest, queryset: QuerySet[Invitation]) -> None:
        revoked = 0
        for invitation in queryset.select_related("organization"):
            if not invitation.is_pending:
                continue
            invitation_revoke(
                caller=Caller.system(invitation.organization, staff_user(request)), invitation=invitation)
            revoked += 1
        self.message_user(request, f"Revoked {revoked} invitation(s).", messages.SUCCESS)
