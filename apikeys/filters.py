"""The search and filters above the lists of API keys."""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import QueryDict

from accounts.models import Organization
from apikeys import crypto
from apikeys.models import ApiKey, KeyStatus
from applications.models import Application
from applications.selectors import organization_application_choices
from portal.conf import portal_settings
from portal.listing import ListFilterForm


class ApiKeyFilterForm(ListFilterForm):
    """A key is found by part of its name or by its public id; a pasted whole key is looked for by its public id
    and never shown back (``normalize_query``)."""

    application: forms.ModelChoiceField[Application] = forms.ModelChoiceField(
        queryset=None, required=False, empty_label="All applications")
    environment = forms.ChoiceField(required=False, choices=[("", "Live and test"), *ApiKey.Environment.choices])
    status = forms.ChoiceField(required=False,
                               choices=[("", "Any status"), *((s, s.capitalize()) for s in KeyStatus.values)])

    def __init__(self, data: QueryDict, *, organization: Organization, **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        application = self.fields["application"]
        assert isinstance(application, forms.ModelChoiceField)  # declared above
        application.queryset = organization_application_choices(organization)

    def normalize_query(self, query: str) -> str:
        return crypto.public_id_in(query, prefix=portal_settings.KEY_PREFIX) or query
