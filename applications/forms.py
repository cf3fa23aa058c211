"""Forms for applications: the dashboard's, and the field with which staff pick one (the admin's add pages of
keys and clients). They check the shape of the input; services decide."""

from __future__ import annotations

from typing import Any

from django import forms

from applications.models import Application


class ApplicationForm(forms.Form):
    name = forms.CharField(max_length=120)
    description = forms.CharField(
        max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What the integration does, for the people who will see its keys.",
    )


class ApplicationChoiceField(forms.ModelChoiceField):
    """Every application, named with its organization, for staff who act across organizations."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("queryset", Application.objects.select_related("organization")
                          .order_by("organization__name", "name"))
        kwargs.setdefault("label", "Organization / application")
        super().__init__(**kwargs)

    def label_from_instance(self, obj: Application) -> str:
        return f"{obj.organization.name} ({obj.organization.slug}) / {obj.name}"
