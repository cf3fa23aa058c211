from __future__ import annotations

from django import forms

from portal.events import EVENT_TYPES


class WebhookEndpointForm(forms.Form):
    url = forms.CharField(label="URL", max_length=2000, help_text="https:// only. The portal POSTs signed JSON here.",
                          widget=forms.URLInput(attrs={"placeholder": "https://example.com/webhooks/portal"}))
    description = forms.CharField(max_length=500, required=False)
    all_events = forms.BooleanField(label="Every event type", required=False, initial=True)
    event_types = forms.MultipleChoiceField(
        label="Or only these", required=False, widget=forms.CheckboxSelectMultiple,
        choices=[(name, f"{name}: {text}") for name, text in EVENT_TYPES.items()],
    )
    enabled = forms.BooleanField(required=False, initial=True)

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        return {"url": data["url"], "description": data["description"],
                "event_types": ["*"] if data["all_events"] else list(data["event_types"]), "enabled": data["enabled"]}
