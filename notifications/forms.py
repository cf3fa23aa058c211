from __future__ import annotations

from django import forms


class NotificationPreferenceForm(forms.Form):
    key_expiry = forms.BooleanField(required=False, label="API keys that expire in 7 days, in 1 day, or have expired")
    webhook_disabled = forms.BooleanField(required=False, label="A webhook endpoint the portal had to disable")
