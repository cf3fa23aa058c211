"""Staff screens for people: their accounts, addresses and second factors. Changes go through
``accounts.people.services``."""

from __future__ import annotations

from typing import Any

from allauth.account.models import EmailAddress, EmailConfirmation
from allauth.mfa.models import Authenticator
from allauth.usersessions.models import UserSession
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest

from accounts.memberships.admin import MembershipInline
from accounts.models import User
from accounts.people.services import user_factor_remove
from portal.admin import staff_user
from portal.callers import Caller

# --- Users -------------------------------------------------------------------------------------------------


class UniqueEmailMixin:
    """An email address, lower-cased, that no other user has in any letter case."""

    # Mixed into the user forms below, which define both.
    cleaned_data: dict[str, Any]
    instance: User

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
        user_factor_remove(caller=Caller.system(actor=staff_user(request)), authenticator=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Authenticator]) -> None:
        for authenticator in queryset.select_related("user"):
            user_factor_remove(caller=Caller.system(actor=staff_user(request)), authenticator=authenticator)

    @admin.action(description="Remove the selected factors (for a locked-out person)")
    def remove_factors(self, request: HttpRequest, queryset: QuerySet[Authenticator]) -> None:
        count = len(queryset)
        self.delete_queryset(request, queryset)
        self.message_user(request, f"Removed {count} factor(s). Each removal is in the person's audit log.",
                          messages.SUCCESS)
