"""The search and filter above the list of an organization's members."""

from __future__ import annotations

from django import forms

from accounts.roles import Role
from portal.listing import ListFilterForm


class MemberFilterForm(ListFilterForm):
    """A member is found by part of their e-mail address or name."""

    role = forms.ChoiceField(required=False, choices=[("", "Every role"), *Role.choices])
