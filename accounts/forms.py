"""Dashboard forms for people, organizations and members. They validate input; services do the work."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError

from accounts.models import User
from accounts.roles import Role


class EmailAuthenticationForm(AuthenticationForm):
    """Django's sign-in form (session renewal, inactive-user check, failed-login signal) with an email label."""

    username = forms.EmailField(
        label="Email",
        max_length=254,
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )


class SignupForm(forms.Form):
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

    def __init__(self, *args: Any, fixed_email: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if fixed_email:
            # A disabled field ignores whatever is posted: an invitation decides the address.
            self.fields["email"].initial = fixed_email
            self.fields["email"].disabled = True

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
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
