"""Small helpers shared by the dashboard's views and forms (and the admin's add pages)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.forms.boundfield import BoundField
from django.forms.renderers import DjangoTemplates
from django.http import HttpRequest, QueryDict
from django.utils.safestring import SafeString


class UnsuffixedBoundField(BoundField):
    """A field whose label carries no suffix unless one is asked for: "Name", not Django's "Name:"."""

    def label_tag(self, contents: str | None = None, attrs: dict[str, Any] | None = None,
                  label_suffix: str | None = None, tag: str | None = None) -> SafeString:
        return super().label_tag(contents, attrs, "" if label_suffix is None else label_suffix, tag)


class PortalFormRenderer(DjangoTemplates):
    """The project's form renderer (``FORM_RENDERER``): every form, the portal's and django-allauth's alike,
    gets its bound fields here, so labels lose Django's colon in one place."""

    bound_field_class = UnsuffixedBoundField


def posted_data(request: HttpRequest) -> QueryDict | None:
    """The form data of a POST, even an empty one (``request.POST or None`` would leave that form unbound and
    show a blank form instead of its errors)."""
    return request.POST if request.method == "POST" else None


def add_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Show a service's ``ValidationError`` on the form: on its field when the form has it, else on top."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error.messages)
        return
    for field, errors in error.message_dict.items():
        form.add_error(field if field in form.fields else None, errors)
