"""Dashboard forms for OAuth clients. They check the shape of the input; ``oauthapps.services`` decides.

As with the API-key form, the scope checkboxes *offer* only what the person's role may grant but the field
*accepts* every known scope: a crafted POST beyond the role reaches the service, which refuses it
(``ScopeEscalation``). The rule lives in one place and the form cannot drift from it.
"""

from __future__ import annotations

from typing import Any

from django import forms

from accounts.roles import role_ceiling
from oauthapps.models import ACCESS_TOKEN_FORMATS, DEVICE_CODE_GRANT, OAuthClient
from oauthapps.redirects import MAX_LENGTH, MAX_URIS, clean_redirect_uris
from oauthapps.server import GRANT_TYPES
from policies.rules import DEFAULT_POLICY, Policy
from portal import scopes as scope_registry

REDIRECT_URI_HELP = (
    "One a line. https, or http only for loopback such as http://127.0.0.1:8080/callback; "
    "exact match; no wildcards or fragments."
)

GRANT_LABELS = {
    "authorization_code": "authorization_code: people sign in and approve access (PKCE with S256 required)",
    "client_credentials": "client_credentials: server to server, acting for the organization (confidential only)",
    "refresh_token": "refresh_token: renew access without asking again (with authorization_code or device_code)",
    DEVICE_CODE_GRANT: "device_code: command-line tools and devices; the person enters a code at /device",
}

ACCESS_TOKEN_FORMAT_HELP = (
    "opaque: random strings that live an hour (services ask /oauth/introspect/). jwt: RFC 9068 JWTs that live "
    "5 minutes, which services verify with the JWKS alone."
)

CLIENT_TYPE_CHOICES = [
    (OAuthClient.CLIENT_CONFIDENTIAL, "Confidential: runs on a server and keeps a client secret"),
    (OAuthClient.CLIENT_PUBLIC, "Public: a browser, mobile or desktop app; no secret, authorization code with PKCE"),
]


class OAuthClientForm(forms.Form):
    """The fields a client can change after it is registered; ``OAuthClientCreateForm`` adds its type."""

    name = forms.CharField(max_length=120, help_text="Shown to people on the consent page.")
    grant_types = forms.MultipleChoiceField(
        label="Grant types", widget=forms.CheckboxSelectMultiple,
        choices=[(grant, GRANT_LABELS.get(grant, grant)) for grant in GRANT_TYPES],
    )
    redirect_uris = forms.CharField(
        label="Redirect URIs", required=False, help_text=REDIRECT_URI_HELP,
        max_length=MAX_URIS * (MAX_LENGTH + 2), widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false"}),
    )
    allowed_scopes = forms.MultipleChoiceField(
        label="Allowed scopes", widget=forms.CheckboxSelectMultiple,
        help_text="The most a token of this client may hold; a person's consent can only narrow it.",
    )
    rate_limit_per_minute = forms.IntegerField(
        label="Rate limit (requests a minute, optional)", required=False, min_value=1, max_value=100_000,
        help_text="Replaces the default limits for every request made with this client's tokens.",
    )
    access_token_format = forms.ChoiceField(
        label="Access token format", choices=[(f, f) for f in ACCESS_TOKEN_FORMATS], initial="opaque",
        widget=forms.RadioSelect, help_text=ACCESS_TOKEN_FORMAT_HELP, required=False,
    )

    def __init__(self, *args: Any, role: str, client: OAuthClient | None = None, policy: Policy = DEFAULT_POLICY,
                 **kwargs: Any) -> None:
        self.client = client
        if client is not None:
            kwargs.setdefault("initial", {
                "name": client.name,
                "grant_types": list(client.grant_types),
                "redirect_uris": "\n".join(client.redirect_uris.split()),
                "allowed_scopes": list(client.allowed_scopes),
                "rate_limit_per_minute": client.rate_limit_per_minute,
                "access_token_format": client.access_token_format,
            })
        super().__init__(*args, **kwargs)
        registry = scope_registry.registry()
        # A client may already hold scopes beyond this person's role (an owner made it): show them, checked,
        # so saving another field does not silently drop them.
        # Only what the organization's policy allows is offered (section 19).
        offered = (set(role_ceiling(role)) - set(policy.disallowed(registry))) | \
            set(client.allowed_scopes if client else [])
        allowed_scopes = self.fields["allowed_scopes"]
        assert isinstance(allowed_scopes, forms.MultipleChoiceField)  # declared above
        allowed_scopes.choices = [(name, f"{name} — {text}") for name, text in registry.items()]
        allowed_scopes.widget.choices = [
            (name, f"{name} — {text}") for name, text in registry.items() if name in offered
        ]

    def clean_access_token_format(self) -> str:
        """Left out (an older form): the client keeps its format, a new one gets ``opaque``."""
        return self.cleaned_data["access_token_format"] or (self.client.access_token_format if self.client
                                                              else "opaque")

    def clean_redirect_uris(self) -> list[str]:
        """Every refused URI, each with its reason, at once (the service checks again, with the same rules)."""
        lines = [line.strip() for line in self.cleaned_data["redirect_uris"].splitlines() if line.strip()]
        cleaned, problems = clean_redirect_uris(lines)
        if problems:
            raise forms.ValidationError([f"{uri}: {problem}" if uri != "*" else problem
                                         for uri, problem in problems.items()])
        return cleaned

    def changes(self) -> dict[str, Any]:
        """The cleaned fields that differ from the client, as ``oauth_client_update`` takes them.

        Only what changed is sent, so renaming a client made by an owner does not re-check its scopes
        against a developer's role, and the audit event names the fields that really changed.
        """
        assert self.client is not None
        data, client = self.cleaned_data, self.client
        current = {
            "name": client.name,
            "grant_types": list(client.grant_types),
            "redirect_uris": client.redirect_uris.split(),
            "allowed_scopes": list(client.allowed_scopes),
            "rate_limit_per_minute": client.rate_limit_per_minute,
            "access_token_format": client.access_token_format,
        }
        changed: dict[str, Any] = {}
        for field, value in current.items():
            new = data[field]
            same = set(new) == set(value) if field in ("grant_types", "allowed_scopes") else new == value
            if not same:
                changed[field] = new
        return changed


class OAuthClientCreateForm(OAuthClientForm):
    client_type = forms.ChoiceField(
        label="Client type", choices=CLIENT_TYPE_CHOICES, initial=OAuthClient.CLIENT_CONFIDENTIAL,
        widget=forms.RadioSelect,
    )

    field_order = ["name", "client_type", "grant_types", "redirect_uris", "allowed_scopes", "rate_limit_per_minute",
                   "access_token_format"]

    def __init__(self, *args: Any, role: str, **kwargs: Any) -> None:
        super().__init__(*args, role=role, **kwargs)
        self.fields["grant_types"].initial = ["client_credentials"]
        offered = [name for name, _label in self.fields["allowed_scopes"].widget.choices]
        self.fields["allowed_scopes"].initial = ["apps:read"] if "apps:read" in offered else offered[:1]

    def service_arguments(self) -> dict[str, Any]:
        """The cleaned data as ``oauth_client_create`` takes it."""
        return {field: self.cleaned_data[field] for field in (
            "name", "client_type", "grant_types", "redirect_uris", "allowed_scopes", "rate_limit_per_minute",
            "access_token_format")}
