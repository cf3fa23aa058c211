"""The search and filters above the organization's list of OAuth clients."""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import QueryDict

from accounts.models import Organization
from applications.models import Application
from applications.selectors import organization_application_choices
from oauthapps.models import OAuthClient
from portal.listing import ListFilterForm


class OAuthClientFilterForm(ListFilterForm):
    """A client is found by part of its name or by its whole client id (a client id is no secret)."""

    application: forms.ModelChoiceField[Application] = forms.ModelChoiceField(
        queryset=None, required=False, empty_label="All applications")
    client_type = forms.ChoiceField(label="Type", required=False,
                                    choices=[("", "Confidential and public"), *OAuthClient.CLIENT_TYPES])

    def __init__(self, data: QueryDict, *, organization: Organization, **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        application = self.fields["application"]
        assert isinstance(application, forms.ModelChoiceField)  # declared above
        application.queryset = organization_application_choices(organization)
