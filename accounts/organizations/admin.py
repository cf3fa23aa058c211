"""Staff screens for organizations: creating one for an owner, suspending and reinstating it, its members.
Changes go through ``accounts.organizations.services`` and ``accounts.memberships.services``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypedDict

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from accounts.memberships.admin import MembershipInline
from accounts.models import Membership, Organization, User
from accounts.organizations.services import organization_create, organization_reinstate, organization_suspend
from portal.admin import adopt_created, staff_user
from portal.callers import Caller

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class _MemberCount(TypedDict):
    _member_count: int

# --- Organizations -----------------------------------------------------------------------------------------


class SuspendedFilter(admin.SimpleListFilter):
    title = "suspended"
    parameter_name = "suspended"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("yes", "Suspended"), ("no", "Active")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Organization]) -> QuerySet[Organization]:
        if self.value() == "yes":
            return queryset.filter(suspended_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(suspended_at__isnull=True)
        return queryset


class OrganizationAddForm(forms.ModelForm):
    owner_email = forms.EmailField(label="Owner", help_text="Email address of an existing user; becomes the owner.")

    class Meta:
        model = Organization
        fields = ("name", "slug")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["slug"].required = False
        self.fields["slug"].help_text = "Leave empty to derive it from the name."

    def clean_owner_email(self) -> User:
        email = self.cleaned_data["owner_email"].strip()
        owner = User.objects.filter(email__iexact=email).first()
        if owner is None:
            raise ValidationError("No user has this email address. Create the user first.")
        return owner


class MembershipOfOrganizationInline(MembershipInline):
    fk_name = "organization"
    fields = ("user", "role", "created_at")
    readonly_fields = fields
    verbose_name = "member"
    verbose_name_plural = "members (change roles on the member's own page)"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Membership]:
        return super().get_queryset(request).select_related("user")


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "is_suspended_display", "member_count", "is_personal", "created_at")
    list_filter = (SuspendedFilter, "is_personal")
    search_fields = ("name", "slug", "memberships__user__email")
    ordering = ("name",)
    date_hierarchy = "created_at"
    actions = ("suspend_organizations", "reinstate_organizations")
    inlines = (MembershipOfOrganizationInline,)
    # Suspension changes only through the actions (which audit); the rest has no audited update service.
    readonly_fields = ("name", "slug", "is_personal", "allow_keys_without_expiry", "suspended_at", "created_at")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Organization]:
        return super().get_queryset(request).annotate(_member_count=Count("memberships", distinct=True))

    def get_readonly_fields(self, request: HttpRequest, obj: Organization | None = None) -> tuple[str, ...]:
        return () if obj is None else self.readonly_fields

    def get_fields(self, request: HttpRequest, obj: Organization | None = None) -> tuple[str, ...]:
        if obj is None:
            return ("name", "slug", "owner_email")
        return self.readonly_fields

    def get_form(self, request: HttpRequest, obj: Organization | None = None, change: bool = False,
                 **kwargs: Any) -> type[forms.ModelForm]:
        if obj is None:
            kwargs["form"] = OrganizationAddForm
            kwargs["fields"] = ("name", "slug")
        return super().get_form(request, obj, change=change, **kwargs)

    def get_inlines(self, request: HttpRequest, obj: Organization | None) -> tuple[type, ...]:
        return self.inlines if obj is not None else ()

    def save_model(self, request: HttpRequest, obj: Organization, form: forms.ModelForm, change: bool) -> None:
        if change:
            # Every field is read-only on the change page; nothing to write, and nothing unaudited.
            return
        created = organization_create(
            caller=Caller.system(actor=staff_user(request)),
            name=form.cleaned_data["name"],
            slug=form.cleaned_data.get("slug") or None,
            owner=form.cleaned_data["owner_email"],
        )
        adopt_created(obj, created, "slug", "created_at")

    def has_delete_permission(self, request: HttpRequest, obj: Organization | None = None) -> bool:
        # Deleting would take every credential and member with it, unaudited; suspend instead.
        return False

    @admin.display(description="suspended", boolean=True, ordering="suspended_at")
    def is_suspended_display(self, obj: Organization) -> bool:
        return obj.is_suspended

    @admin.display(description="members", ordering="_member_count")
    def member_count(self, obj: WithAnnotations[Organization, _MemberCount]) -> int:
        return obj._member_count

    @admin.action(description="Suspend selected organizations (every credential stops working)",
                  permissions=["change"])
    def suspend_organizations(self, request: HttpRequest, queryset: QuerySet[Organization]) -> None:
        changed = 0
        for organization in queryset:
            if not organization.is_suspended:
                organization_suspend(caller=Caller.system(organization, actor=staff_user(request)))
                changed += 1
        self.message_user(request, f"Suspended {changed} organization(s).", messages.SUCCESS)

    @admin.action(description="Reinstate selected organizations", permissions=["change"])
    def reinstate_organizations(self, request: HttpRequest, queryset: QuerySet[Organization]) -> None:
        changed = 0
        for organization in queryset:
            if organization.is_suspended:
                organization_reinstate(caller=Caller.system(organization, actor=staff_user(request)))
                changed += 1
        self.message_user(request, f"Reinstated {changed} organization(s).", messages.SUCCESS)
