"""Staff screens for people and organizations. Every change goes through ``accounts.services``.

Staff are not members of the organizations they look after: they act as ``Caller.system``, which the
membership services treat as an owner (``accounts.services.team_role``), so the rules (last owner, who may
grant which role) and the audit rows stay in the services, with the staff user recorded as the actor.
"""

from __future__ import annotations

from typing import Any

from allauth.account.models import EmailAddress, EmailConfirmation
from allauth.mfa.models import Authenticator
from allauth.usersessions.models import UserSession
from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Exists, OuterRef, QuerySet
from django.http import HttpRequest
from django.utils import timezone

from accounts import services
from accounts.models import Invitation, Membership, Organization, User
from accounts.roles import Role
from accounts.selectors import owner_count
from portal.admin import adopt_created
from portal.callers import Caller


def _error_text(error: ValidationError | PermissionDenied) -> str:
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return str(error) or "Not allowed."


# --- Users -------------------------------------------------------------------------------------------------


class UniqueEmailMixin:
    """An email address, lower-cased, that no other user has in any letter case."""

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        if User.objects.filter(email__iexact=email).exclude(pk=self.instance.pk).exists():
            raise ValidationError("A user with this email address already exists.")
        return email


class EmailUserCreationForm(UniqueEmailMixin, AdminUserCreationForm):
    """Django's admin creation form (password1/password2, optional unusable password) for an email login."""

    class Meta:
        model = User
        fields = ("email",)
        field_classes: dict[str, Any] = {}


class EmailUserChangeForm(UniqueEmailMixin, UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"
        field_classes: dict[str, Any] = {}


class MembershipInline(admin.TabularInline):
    """Memberships shown read-only on a user's or an organization's page; they change through the services."""

    model = Membership
    readonly_fields: tuple[str, ...] = ()
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class MembershipOfUserInline(MembershipInline):
    fk_name = "user"
    fields = ("organization", "role", "created_at")
    readonly_fields = fields
    verbose_name = "organization"
    verbose_name_plural = "organizations"


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = EmailUserChangeForm
    add_form = EmailUserCreationForm
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Personal info", {"fields": ("full_name",)}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Important dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("email", "usable_password", "password1", "password2")}),
    )
    readonly_fields = ("last_login", "date_joined", "email_verified", "second_factors")
    list_display = ("email", "full_name", "email_verified", "two_factor", "is_staff", "is_active", "date_joined",
                    "last_login")
    list_filter = ("is_staff", "is_superuser", "is_active", "groups")
    search_fields = ("email", "full_name")
    ordering = ("email",)
    inlines = (MembershipOfUserInline,)

    def get_fieldsets(self, request: HttpRequest, obj: User | None = None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            return fieldsets
        return (*fieldsets, ("Account security", {"fields": ("email_verified", "second_factors")}))

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        verified = EmailAddress.objects.filter(user=OuterRef("pk"), email__iexact=OuterRef("email"), verified=True)
        factors = Authenticator.objects.filter(user=OuterRef("pk"))
        return super().get_queryset(request).annotate(has_verified_email=Exists(verified),
                                                      has_second_factor=Exists(factors))

    def get_inlines(self, request: HttpRequest, obj: User | None) -> tuple[type, ...]:
        return self.inlines if obj is not None else ()

    @admin.display(boolean=True, description="Email verified", ordering="has_verified_email")
    def email_verified(self, obj: User) -> bool:
        return bool(getattr(obj, "has_verified_email", False))

    @admin.display(boolean=True, description="Two-factor", ordering="has_second_factor")
    def two_factor(self, obj: User) -> bool:
        return bool(getattr(obj, "has_second_factor", False))

    @admin.display(description="Second factors")
    def second_factors(self, obj: User) -> str:
        """What kinds of factor the person has and when each was last used; never a secret. Staff remove one for a
        locked-out person from the two-factor list."""
        rows = [f"{a.get_type_display()} (added {a.created_at:%Y-%m-%d}, last used "
                f"{a.last_used_at:%Y-%m-%d %H:%M} UTC)" if a.last_used_at else
                f"{a.get_type_display()} (added {a.created_at:%Y-%m-%d}, never used)"
                for a in Authenticator.objects.filter(user=obj).order_by("created_at")]
        return "; ".join(rows) or "None"


# --- Two-factor and sessions: allauth's own screens show a TOTP secret's ciphertext, a verification key and
# session keys; staff get these instead, which show none of them.

for model in (Authenticator, EmailConfirmation, UserSession):
    if admin.site.is_registered(model):
        admin.site.unregister(model)


@admin.register(Authenticator)
class SecondFactorAdmin(admin.ModelAdmin):
    """Staff see that a factor exists and remove it for a locked-out person (audited); its secret never shows."""

    list_display = ("user", "type", "created_at", "last_used_at")
    list_filter = ("type",)
    search_fields = ("user__email",)
    list_select_related = ("user",)
    fields = ("user", "type", "created_at", "last_used_at")
    readonly_fields = fields
    actions = ("remove_factors",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Authenticator | None = None) -> bool:
        return False

    def get_actions(self, request: HttpRequest) -> dict:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # it would skip the audit: remove_factors goes through the service
        return actions

    def delete_model(self, request: HttpRequest, obj: Authenticator) -> None:
        services.user_factor_remove(authenticator=obj, actor=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Authenticator]) -> None:
        for authenticator in queryset.select_related("user"):
            services.user_factor_remove(authenticator=authenticator, actor=request.user)

    @admin.action(description="Remove the selected factors (for a locked-out person)")
    def remove_factors(self, request: HttpRequest, queryset: QuerySet[Authenticator]) -> None:
        count = len(queryset)
        self.delete_queryset(request, queryset)
        self.message_user(request, f"Removed {count} factor(s). Each removal is in the person's audit log.",
                          messages.SUCCESS)


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
        created = services.organization_create(
            name=form.cleaned_data["name"],
            slug=form.cleaned_data.get("slug") or None,
            owner=form.cleaned_data["owner_email"],
            actor=request.user,
        )
        adopt_created(obj, created, "slug", "created_at")

    def has_delete_permission(self, request: HttpRequest, obj: Organization | None = None) -> bool:
        # Deleting would take every credential and member with it, unaudited; suspend instead.
        return False

    @admin.display(description="suspended", boolean=True, ordering="suspended_at")
    def is_suspended_display(self, obj: Organization) -> bool:
        return obj.is_suspended

    @admin.display(description="members", ordering="_member_count")
    def member_count(self, obj: Organization) -> int:
        return obj._member_count

    @admin.action(description="Suspend selected organizations (every credential stops working)",
                  permissions=["change"])
    def suspend_organizations(self, request: HttpRequest, queryset: QuerySet[Organization]) -> None:
        changed = 0
        for organization in queryset:
            if not organization.is_suspended:
                services.organization_suspend(organization=organization, actor=request.user)
                changed += 1
        self.message_user(request, f"Suspended {changed} organization(s).", messages.SUCCESS)

    @admin.action(description="Reinstate selected organizations", permissions=["change"])
    def reinstate_organizations(self, request: HttpRequest, queryset: QuerySet[Organization]) -> None:
        changed = 0
        for organization in queryset:
            if organization.is_suspended:
                services.organization_reinstate(organization=organization, actor=request.user)
                changed += 1
        self.message_user(request, f"Reinstated {changed} organization(s).", messages.SUCCESS)


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
            raise ValidationError(services.LAST_OWNER_MESSAGE)
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
        services.membership_change_role(
            caller=Caller.system(obj.organization, request.user),
            membership=obj,
            role=form.cleaned_data["role"],
        )

    @admin.action(description="Remove selected members from their organization", permissions=["change"])
    def remove_members(self, request: HttpRequest, queryset: QuerySet[Membership]) -> None:
        removed = 0
        for membership in queryset.select_related("organization", "user"):
            try:
                services.membership_remove(
                    caller=Caller.system(membership.organization, request.user),
                    membership=membership,
                )
            except (ValidationError, PermissionDenied) as error:
                self.message_user(request, f"{membership.user} in {membership.organization}: {_error_text(error)}",
                                  messages.ERROR)
            else:
                removed += 1
        if removed:
            self.message_user(request, f"Removed {removed} member(s).", messages.SUCCESS)


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
        cleaned = super().clean()
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
        invitation, _token = services.invitation_create(
            caller=Caller.system(form.cleaned_data["organization"], request.user),
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
            services.invitation_revoke(
                caller=Caller.system(invitation.organization, request.user), invitation=invitation)
            revoked += 1
        self.message_user(request, f"Revoked {revoked} invitation(s).", messages.SUCCESS)
