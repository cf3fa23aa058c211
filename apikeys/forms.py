"""Dashboard forms for API keys. They check the shape of the input; services decide.

The key form *offers* only what the person's role may grant, but *accepts* every known scope and preset:
a crafted POST beyond the role then reaches ``api_key_create``, which refuses it (``ScopeEscalation``).
The rule lives in one place, the service, and the form cannot drift from it.
"""

from __future__ import annotations

from typing import Any

from django import forms

from accounts.roles import role_ceiling
from apikeys.models import ApiKey
from policies.rules import DEFAULT_POLICY, Policy
from portal import scopes as scope_registry
from portal.conf import portal_settings

CUSTOM_PRESET = "custom"
NO_EXPIRY = "never"
EXPIRY_CHOICES_DAYS = (7, 30, 90, 365)
MAX_ALLOWED_IP_LINES = 50


def _preset_label(name: str, scopes: list[str]) -> str:
    return f"{name.replace('_', ' ').title()} ({', '.join(scopes)})"


class ApiKeyCreateForm(forms.Form):
    name = forms.CharField(max_length=120, help_text="Where the key is used, e.g. “CI deploys” or “Billing worker”.")
    scope_preset = forms.ChoiceField(label="Scopes", widget=forms.RadioSelect)
    scopes = forms.MultipleChoiceField(
        label="Custom scopes", required=False,
        # static/portal.js shows these only while "Custom" is chosen; without JavaScript all are shown.
        widget=forms.CheckboxSelectMultiple(attrs={"data-custom-scopes": ""}),
        help_text="Used only when “Custom” is chosen above.",
    )
    expires_in_days = forms.ChoiceField(label="Expires")
    environment = forms.ChoiceField(
        choices=ApiKey.Environment.choices, initial=ApiKey.Environment.TEST, widget=forms.RadioSelect,
        help_text="Test keys start with _test_ so they are easy to tell apart from live ones.",
    )
    rate_limit_per_minute = forms.IntegerField(
        label="Rate limit (requests a minute, optional)", required=False, min_value=1, max_value=100_000,
        help_text="Replaces the default limits for this key.",
    )
    allowed_ips = forms.CharField(
        label="Allowed IP ranges (optional)", required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One address or CIDR range a line, e.g. 203.0.113.0/24. Empty: any address.",
    )

    def __init__(self, *args: Any, role: str, allow_no_expiry: bool, email_verified: bool = True,
                 policy: Policy = DEFAULT_POLICY,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not email_verified:  # said beside the choice, before any refusal (contract section 4)
            self.fields["environment"].help_text = (
                "Live keys need a verified email address: open the link we mailed you, or send it again from the "
                "banner above. Until then, make a test key.")
        registry = scope_registry.registry()
        presets = scope_registry.presets()
        # What the role may grant and the organization's policy allows (section 19): only that is offered.
        grantable = set(role_ceiling(role)) - set(policy.disallowed(registry))

        scope_preset, scopes, expires_in_days = (self.fields[name] for name in ("scope_preset", "scopes",
                                                                                  "expires_in_days"))
        assert isinstance(scope_preset, forms.ChoiceField) and isinstance(scopes, forms.ChoiceField)  # declared above
        assert isinstance(expires_in_days, forms.ChoiceField)  # declared above
        scope_preset.choices = [
            *((name, _preset_label(name, values)) for name, values in presets.items()),
            (CUSTOM_PRESET, "Custom: choose scopes below"),
        ]
        self.fields["scope_preset"].widget.choices = [
            *((name, _preset_label(name, values)) for name, values in presets.items() if grantable.issuperset(values)),
            (CUSTOM_PRESET, "Custom: choose scopes below"),
        ]
        offered = [name for name, _label in self.fields["scope_preset"].widget.choices]
        self.fields["scope_preset"].initial = "READ_ONLY" if "READ_ONLY" in offered else offered[0]
        scopes.choices = [(name, f"{name} — {text}") for name, text in registry.items()]
        # OpenID Connect's scopes describe a person signing in; a key acts for no one, so they are not offered.
        self.fields["scopes"].widget.choices = [
            (name, f"{name} — {text}") for name, text in registry.items()
            if name in grantable and name not in scope_registry.IDENTITY_SCOPES
        ]

        maximum = portal_settings.KEY_MAX_EXPIRY_DAYS
        limit = policy.max_key_lifetime_days
        if limit is not None:
            maximum = min(maximum, limit)
        days_offered = [days for days in EXPIRY_CHOICES_DAYS if days <= maximum]
        if limit is not None and maximum not in days_offered:
            days_offered.append(maximum)  # the policy's own limit is always a choice
        expiry = [(str(days), f"{days} day{'s' if days != 1 else ''}") for days in days_offered]
        if allow_no_expiry and limit is None:
            expiry.append((NO_EXPIRY, "Never"))
        if limit is not None:
            self.fields["expires_in_days"].help_text = f"This organization's policy limits keys to {limit} days."
        if policy.live_keys_need_ip_ranges:
            self.fields["allowed_ips"].label = "Allowed IP ranges (required for live keys)"
            self.fields["allowed_ips"].help_text = (
                "This organization's policy requires live keys to list the addresses they are used from. "
                + self.fields["allowed_ips"].help_text)
        expires_in_days.choices = expiry
        default = str(portal_settings.KEY_DEFAULT_EXPIRY_DAYS)
        self.fields["expires_in_days"].initial = default if default in dict(expiry) else expiry[0][0]

    def clean_allowed_ips(self) -> list[str]:
        lines = [line.strip() for line in self.cleaned_data["allowed_ips"].splitlines() if line.strip()]
        if len(lines) > MAX_ALLOWED_IP_LINES:
            raise forms.ValidationError(f"Give at most {MAX_ALLOWED_IP_LINES} ranges.")
        return lines  # the service parses and normalises each range

    def clean_expires_in_days(self) -> int | None:
        value = self.cleaned_data["expires_in_days"]
        return None if value == NO_EXPIRY else int(value)

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if cleaned.get("scope_preset") == CUSTOM_PRESET and not cleaned.get("scopes"):
            self.add_error("scopes", "Choose at least one scope, or pick a preset.")
        return cleaned

    def service_arguments(self) -> dict[str, Any]:
        """The cleaned data as ``api_key_create`` takes it: a preset, or the custom scopes, never both."""
        data = self.cleaned_data
        custom = data["scope_preset"] == CUSTOM_PRESET
        return {
            "name": data["name"],
            "scope_preset": None if custom else data["scope_preset"],
            "scopes": data["scopes"] if custom else None,
            "expires_in_days": data["expires_in_days"],
            "environment": data["environment"],
            "rate_limit_per_minute": data["rate_limit_per_minute"],
            "allowed_ips": data["allowed_ips"],
        }

    def scope_error_field(self) -> str:
        """Where a refused scope is shown: on the checkboxes for a custom list, else on the preset."""
        return "scopes" if self.cleaned_data.get("scope_preset") == CUSTOM_PRESET else "scope_preset"


GRACE_CHOICES_HOURS = (
    (0, "None: the old key stops working at once"),
    (1, "1 hour"),
    (24, "24 hours"),
    (168, "7 days"),
)


class ApiKeyRotateForm(forms.Form):
    name = forms.CharField(label="Name of the new key (optional)", max_length=120, required=False)
    grace_period_hours = forms.TypedChoiceField(
        label="Keep the old key working for", coerce=int, widget=forms.RadioSelect,
        help_text="Time to deploy the new key everywhere the old one is used.",
    )

    def __init__(self, *args: Any, default_name: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["name"].help_text = f"Empty: “{default_name}”."
        maximum = portal_settings.KEY_ROTATION_MAX_GRACE_HOURS
        grace_period_hours = self.fields["grace_period_hours"]
        assert isinstance(grace_period_hours, forms.ChoiceField)  # declared above
        grace_period_hours.choices = [(h, label) for h, label in GRACE_CHOICES_HOURS if h <= maximum]
        self.fields["grace_period_hours"].initial = portal_settings.KEY_ROTATION_GRACE_HOURS

    def service_arguments(self) -> dict[str, Any]:
        """As ``api_key_rotate`` takes them: no name means the default one."""
        return {"grace_period_hours": self.cleaned_data["grace_period_hours"],
                "name": self.cleaned_data["name"].strip() or None}
