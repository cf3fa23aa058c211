"""Dashboard forms for people, organizations and members. They validate input; services do the work."""

from __future__ import annotations

from typing import Any

from allauth.account import forms as allauth_forms
from allauth.account.adapter import get_adapter
from allauth.account.models import EmailAddress
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponseBase, HttpResponseRedirect

from accounts.models import User
from accounts.roles import Role


class LoginForm(allauth_forms.LoginForm):
    """allauth's sign-in form, labelled for an email login."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["login"].label = "Email"
        self.fields["login"].widget.attrs.pop("placeholder", None)
        self.fields["password"].widget.attrs.pop("placeholder", None)
        self.fields["password"].help_text = ""  # the page links "Forgot your password?" after the button


class ChangeEmailForm(allauth_forms.AddEmailForm):
    """One address per person (``ACCOUNT_CHANGE_EMAIL``): the new one waits, unverified, beside the one they sign in
    with until its link is used; then it replaces it, and the old address is told (allauth's "email changed").

    allauth replaces the last unverified address with the new one. For someone who has not verified yet that is the
    address they sign in with, and removing it would leave their login empty; here only an earlier pending change
    is replaced, and the login stays until the new address is verified, as for everyone.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["email"].label = "New email address"
        self.fields["email"].widget.attrs.pop("placeholder", None)

    def save(self, request: HttpRequest) -> EmailAddress:
        if EmailAddress.objects.get_verified(self.user):
            return super().save(request)
        with transaction.atomic():
            EmailAddress.objects.filter(user=self.user, verified=False).exclude(email__iexact=self.user.email).delete()
            address = EmailAddress.objects.create(user=self.user, email=self.cleaned_data["email"])
        address.send_confirmation(request)
        get_adapter(request).add_message(request, messages.INFO, "account/messages/email_confirmation_sent.txt",
                                         {"email": address.email})
        return address


class SignupForm(allauth_forms.SignupForm):
    """allauth's sign-up form with an optional full name.

    A taken address is not an error (contract section 11: no account oracle): ``try_save`` then mails the
    owner of that address, signs nobody in, and answers exactly as a new sign-up does.
    """

    full_name = forms.CharField(
        label="Full name (optional)", max_length=150, required=False,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    field_order = ["email", "full_name", "password1", "password2"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs.pop("placeholder", None)
        if "password2" in self.fields:
            self.fields["password2"].label = "Confirm password"
        self.order_fields(self.field_order)

    def validate_unique_email(self, value: str) -> str:
        self.account_already_exists = User.objects.filter(email__iexact=value).exists()
        return value

    def try_save(self, request: HttpRequest) -> tuple[User | None, HttpResponseBase | None]:
        if self.account_already_exists:
            adapter = get_adapter(request)
            adapter.send_account_already_exists_mail(self.cleaned_data["email"])
            # The same answer as a new sign-up: a redirect to the overview, and the message allauth adds then.
            adapter.add_message(request, messages.INFO, "account/messages/email_confirmation_sent.txt",
                                {"email": self.cleaned_data["email"], "signup": True})
            return None, HttpResponseRedirect(settings.ACCOUNT_SIGNUP_REDIRECT_URL)
        return super().try_save(request)


class InvitationSignupForm(forms.Form):
    """Sign-up on an invitation's page: the invitation decides the address, and its token proves it."""

    email = forms.EmailField(max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    full_name = forms.CharField(
        label="Full name (optional)", max_length=150, required=False,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    password1 = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label="Confirm password", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def __init__(self, *args: Any, fixed_email: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A disabled field ignores whatever is posted: the invitation decides the address.
        self.fields["email"].initial = fixed_email
        self.fields["email"].disabled = True

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        password1, password2 = cleaned.get("password1"), cleaned.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error("password2", "The two passwords do not match.")
        elif password1:
            candidate = User(email=cleaned.get("email") or "", full_name=cleaned.get("full_name") or "")
            try:
                password_validation.validate_password(password1, user=candidate)
            except ValidationError as error:
                self.add_error("password1", error)
        return cleaned


class OrganizationCreateForm(forms.Form):
    name = forms.CharField(max_length=120)
    slug = forms.SlugField(
        max_length=60, required=False, help_text="Used in addresses. Leave empty to derive it from the name."
    )


class InvitationForm(forms.Form):
    email = forms.EmailField(max_length=254)
    role = forms.ChoiceField(choices=Role.choices, initial=Role.DEVELOPER)

    def __init__(self, *args: Any, assignable_roles: list[tuple[str, str]] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if assignable_roles is not None:
            # Only what the inviter may hand out is offered; the service still checks what is posted.
            self.fields["role"].widget.choices = assignable_roles


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)
