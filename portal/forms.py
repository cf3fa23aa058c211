"""Small helpers shared by the dashboard's views and forms (and the admin's add pages)."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpRequest, QueryDict


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
