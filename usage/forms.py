from __future__ import annotations

from datetime import UTC

from django import forms
from django.db.models import Q

from usage.selectors import status_filter


class RequestLogFilterForm(forms.Form):
    """The request log page's filters, the same as ``GET /api/v1/request-logs``'s. Choices are the organization's
    own keys and clients, so a foreign id is simply not a choice."""

    api_key = forms.ChoiceField(label="API key", required=False)
    oauth_client = forms.ChoiceField(label="OAuth client", required=False)
    status = forms.CharField(label="Status", required=False, max_length=3,
                             help_text="A status such as 429, or a class such as 4xx.")
    since = forms.DateTimeField(label="Since (UTC)", required=False,
                                widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
                                input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"])

    def __init__(self, data, *, keys, clients) -> None:
        super().__init__(data)
        self.keys = {key.public_id: key for key in keys}
        self.clients = {str(client.pk): client for client in clients}
        api_key, oauth_client = self.fields["api_key"], self.fields["oauth_client"]
        assert isinstance(api_key, forms.ChoiceField) and isinstance(oauth_client, forms.ChoiceField)  # declared above
        api_key.choices = [("", "All keys")] + [
            (public_id, f"{key.name} ({public_id})") for public_id, key in self.keys.items()]
        oauth_client.choices = [("", "All OAuth clients")] + [
            (pk, client.name) for pk, client in self.clients.items()]

    def clean_status(self) -> Q | None:
        value = self.cleaned_data["status"].strip()
        if not value:
            return None
        try:
            return status_filter(value)
        except ValueError as error:
            raise forms.ValidationError(str(error)) from None

    def clean_since(self):
        since = self.cleaned_data["since"]
        return since.astimezone(UTC) if since is not None else None

    def filters(self) -> dict:
        data = self.cleaned_data
        return {"api_key": self.keys.get(data.get("api_key") or ""),
                "oauth_client": self.clients.get(data.get("oauth_client") or ""),
                "status": data.get("status"), "since": data.get("since")}
