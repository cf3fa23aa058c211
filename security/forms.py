"""The credential policy's form on the Security page. It checks the shape; ``credential_policy_update`` decides."""

from __future__ import annotations

from typing import Any

from django import forms

from policies.rules import LIFETIME_RANGE, UNUSED_RANGE, Policy
from portal import scopes as scope_registry


class CredentialPolicyForm(forms.Form):
    max_key_lifetime_days = forms.IntegerField(
        label="Longest key lifetime (days)", required=False, min_value=LIFETIME_RANGE[0], max_value=LIFETIME_RANGE[1],
        help_text="1 to 365. Empty: keys may live as long as the portal allows. New keys must expire within it; "
                  "a rotated key's replacement too.")
    allowed_scopes = forms.MultipleChoiceField(
        label="Scopes the organization's keys and OAuth clients may hold", required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="admin implies every scope: it can be allowed only together with all the others.")
    live_keys_need_ip_ranges = forms.BooleanField(label="Live keys must list allowed IP ranges", required=False)
    revoke_unused_keys_after_days = forms.IntegerField(
        label="Revoke keys not used for (days)", required=False, min_value=UNUSED_RANGE[0],
        max_value=UNUSED_RANGE[1],
        help_text="30 to 365. Empty: never. The key's maker and the owners are mailed 7 days before.")

    def __init__(self, *args: Any, policy: Policy, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {
            "max_key_lifetime_days": policy.max_key_lifetime_days,
            "allowed_scopes": policy.allowed_scope_list(),
            "live_keys_need_ip_ranges": policy.live_keys_need_ip_ranges,
            "revoke_unused_keys_after_days": policy.revoke_unused_keys_after_days,
        })
        super().__init__(*args, **kwargs)
        allowed_scopes = self.fields["allowed_scopes"]
        assert isinstance(allowed_scopes, forms.MultipleChoiceField)  # declared above; the form's copy of it
        allowed_scopes.choices = [(name, f"{name} — {text}") for name, text in scope_registry.registry().items()]

    def service_arguments(self) -> dict[str, Any]:
        return dict(self.cleaned_data)
