"""OAuth clients, tokens and codes in the admin.

django-oauth-toolkit registers its own admin classes for the swapped client model (``OAuthClient``), tokens,
grants and ID tokens. They are replaced here: the portal's client admin makes clients through
``oauth_client_create`` (the secret shown once, on the next page), and no page shows or edits a client secret
(or whether it is hashed), ``skip_authorization``, a token, a token checksum or an authorization code.
Revoking tokens goes through ``oauth_access_tokens_revoke`` and ``oauth_tokens_revoke``, which audit under the
staff user.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import oauth2_provider.admin  # noqa: F401  (DOT's registrations must exist before they are replaced)
from django import forms
from django.contrib import admin, messages
from django.contrib.admin.exceptions import NotRegistered
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from oauth2_provider.models import (
    DeviceGrant,
    get_access_token_model,
    get_application_model,
    get_grant_model,
    get_id_token_model,
    get_refresh_token_model,
)

from applications.forms import ApplicationChoiceField
from applications.models import Application
from oauthapps.forms import ACCESS_TOKEN_FORMAT_HELP
from oauthapps.models import ACCESS_TOKEN_FORMATS, OAuthClient, SigningKey
from oauthapps.server import GRANT_TYPES
from oauthapps.services.clients import oauth_client_create, oauth_client_delete, oauth_client_rotate_secret
from oauthapps.services.tokens import oauth_access_tokens_revoke, oauth_tokens_revoke
from portal import scopes as scope_registry
from portal.admin import ShowOnceAddMixin, staff_caller, staff_user
from portal.callers import Caller
from portal.showonce import public_base_url, stash_secret

AccessToken = get_access_token_model()
RefreshToken = get_refresh_token_model()
Grant = get_grant_model()
IDToken = get_id_token_model()

for _model in (get_application_model(), AccessToken, RefreshToken, Grant, IDToken):
    try:
        admin.site.unregister(_model)
    except NotRegistered:
        pass


if TYPE_CHECKING:
    # The mixin below is only ever mixed into a ModelAdmin, whose permission methods it extends (for mypy alone:
    # ModelAdmin takes no type parameter at run time).
    _ModelAdmin = admin.ModelAdmin[Any]
else:
    _ModelAdmin = object


class ReadOnlyObjectMixin(_ModelAdmin):
    """Rows the OAuth flows write: staff read them and act through actions, never edit or add them.

    ``has_change_permission`` stays true without an object so the changelist's actions are offered.
    """

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None and super().has_change_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# --- Clients ----------------------------------------------------------------------------------------------


class OAuthClientAddForm(forms.Form):
    """What ``oauth_client_create`` takes. Staff act as a system caller, so every scope is offered."""

    application = ApplicationChoiceField(help_text="The client belongs to this application and its organization.")
    name = forms.CharField(max_length=120)
    client_type = forms.ChoiceField(
        choices=[(OAuthClient.CLIENT_CONFIDENTIAL, "Confidential (a server that can keep a secret)"),
                 (OAuthClient.CLIENT_PUBLIC, "Public (a browser or mobile app; no secret, PKCE only)")],
        initial=OAuthClient.CLIENT_CONFIDENTIAL, widget=forms.RadioSelect,
    )
    grant_types = forms.MultipleChoiceField(choices=[(grant, grant) for grant in GRANT_TYPES],
                                            widget=forms.CheckboxSelectMultiple)
    redirect_uris = forms.CharField(
        label="Redirect URIs", required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One a line, matched exactly; https, or http for loopback only. Needed for authorization_code.",
    )
    allowed_scopes = forms.MultipleChoiceField(widget=forms.CheckboxSelectMultiple)
    rate_limit_per_minute = forms.IntegerField(label="Rate limit (requests a minute)", required=False, min_value=1)
    access_token_format = forms.ChoiceField(
        label="Access token format", choices=[(f, f) for f in ACCESS_TOKEN_FORMATS], initial="opaque",
        widget=forms.RadioSelect, help_text=ACCESS_TOKEN_FORMAT_HELP, required=False,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        allowed_scopes = self.fields["allowed_scopes"]
        assert isinstance(allowed_scopes, forms.ChoiceField)  # declared above
        allowed_scopes.choices = [(name, f"{name} — {text}")
                                  for name, text in scope_registry.registry().items()]


@admin.register(OAuthClient)
class OAuthClientAdmin(ShowOnceAddMixin, admin.ModelAdmin):
    add_form_class = OAuthClientAddForm
    show_once_kind = "admin_oauth_client"
    show_once_title = "Your new OAuth client"

    list_display = ("name", "client_id", "organization", "application", "client_type", "grants_display",
                    "access_token_format", "created", "revoked_at")
    list_select_related = ("organization", "application")
    list_filter = (("organization", admin.RelatedOnlyFieldListFilter), "client_type", "access_token_format")
    search_fields = ("=client_id", "name", "organization__slug")
    date_hierarchy = "created"
    actions = ("rotate_secret",)
    fields = ("name", "client_id", "organization", "application", "client_type", "grant_types", "redirect_uris",
              "allowed_scopes", "rate_limit_per_minute", "access_token_format", "created_by", "created", "updated",
              "revoked_at")
    readonly_fields = fields
    # Never on any page: the secret (hashed or not), whether it is hashed, and consent skipping (always off).
    exclude = ("client_secret", "hash_client_secret", "skip_authorization")

    def has_change_permission(self, request: HttpRequest, obj: OAuthClient | None = None) -> bool:
        # Changes go through the dashboard or the API (``oauth_client_update``); here: add, rotate, delete.
        return obj is None and super().has_change_permission(request)

    @admin.display(description="grants")
    def grants_display(self, obj: OAuthClient) -> str:
        return ", ".join(obj.grant_types or [])

    def create_with_service(self, request: HttpRequest, form: forms.Form) -> tuple[OAuthClient, dict[str, Any]]:
        data = form.cleaned_data
        application: Application = data["application"]
        client, secret = oauth_client_create(
            caller=staff_caller(application, request),
            application=application,
            name=data["name"],
            client_type=data["client_type"],
            grant_types=data["grant_types"],
            redirect_uris=[line.strip() for line in (data["redirect_uris"] or "").splitlines() if line.strip()],
            allowed_scopes=data["allowed_scopes"],
            rate_limit_per_minute=data["rate_limit_per_minute"],
            access_token_format=data["access_token_format"] or "opaque",
        )
        return client, self._payload(request, client, secret)

    def _payload(self, request: HttpRequest, client: OAuthClient, secret: str | None) -> dict[str, Any]:
        secrets = [["Client id", client.client_id]]
        snippet = ""
        if secret:
            secrets.append(["Client secret", secret])
            if "client_credentials" in client.grant_types:
                base_url = public_base_url(request)
                snippet = (f'curl -X POST "{base_url}/oauth/token/" \\\n  -u "{client.client_id}:{secret}" \\\n'
                           f'  -d grant_type=client_credentials -d scope="{" ".join(client.allowed_scopes)}"')
        return {
            "secrets": secrets,
            "details": [["Name", client.name], ["Organization", client.organization.name],
                        ["Application", client.application.name], ["Type", client.client_type],
                        ["Grants", ", ".join(client.grant_types)], ["Scopes", " ".join(client.allowed_scopes)],
                        ["Access tokens", client.access_token_format]],
            "snippet": snippet,
            "object_url": reverse("admin:oauthapps_oauthclient_change", args=[client.pk]),
        }

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> tuple[Any, Any, set[str], Any]:
        deleted, model_count, _perms_needed, protected = super().get_deleted_objects(objs, request)
        # Tokens and codes have no delete permission of their own; ``oauth_client_delete`` removes them with it.
        return deleted, model_count, set(), protected

    def delete_model(self, request: HttpRequest, obj: OAuthClient) -> None:
        # Audited; the client's tokens and codes go with it, so they fail at once.
        oauth_client_delete(caller=staff_caller(obj, request), client=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[OAuthClient]) -> None:
        for client in queryset.select_related("organization"):
            self.delete_model(request, client)

    @admin.action(description="Rotate the secret of the selected client (shown once)", permissions=["add"])
    def rotate_secret(self, request: HttpRequest, queryset: QuerySet[OAuthClient]) -> HttpResponse | None:
        clients = list(queryset.select_related("organization", "application")[:2])
        if len(clients) != 1:
            self.message_user(request, "Select exactly one client: each new secret is shown once, on its own page.",
                              messages.ERROR)
            return None
        client = clients[0]
        try:
            client, secret = oauth_client_rotate_secret(caller=staff_caller(client, request), client=client)
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
            return None
        stash_secret(request, {"kind": self.show_once_kind, **self._payload(request, client, secret)})
        return redirect(f"admin:{self._created_url_name()}")


# --- Tokens and codes ----------------------------------------------------------------------------------------


@admin.register(AccessToken)
class AccessTokenAdmin(ReadOnlyObjectMixin, admin.ModelAdmin):
    list_display = ("id", "application", "user", "organization_display", "scope", "created", "expires")
    list_select_related = ("application", "user", "binding__organization")
    list_filter = (("application__organization", admin.RelatedOnlyFieldListFilter),)
    search_fields = ("=application__client_id", "application__name", "user__email")
    date_hierarchy = "created"
    actions = ("revoke_tokens",)
    fields = ("id", "application", "user", "organization_display", "scope", "created", "expires",
              "source_refresh_token")
    readonly_fields = fields
    exclude = ("token", "token_checksum")

    @admin.display(description="organization")
    def organization_display(self, obj: Any) -> Any:
        binding = getattr(obj, "binding", None)  # the reverse one-to-one raises an AttributeError when missing
        return binding.organization if binding is not None else "-"

    @admin.action(description="Revoke selected tokens", permissions=["change"])
    def revoke_tokens(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        revoked, refreshed = oauth_access_tokens_revoke(caller=Caller.system(actor=staff_user(request)),
                                                        tokens=queryset)
        self.message_user(request, f"Revoked {revoked} access token(s) and {refreshed} refresh token(s).",
                          messages.SUCCESS)


@admin.register(RefreshToken)
class RefreshTokenAdmin(ReadOnlyObjectMixin, admin.ModelAdmin):
    list_display = ("id", "application", "user", "organization_display", "created", "revoked")
    list_select_related = ("application__organization", "user")
    list_filter = (("application__organization", admin.RelatedOnlyFieldListFilter),)
    search_fields = ("=application__client_id", "application__name", "user__email")
    date_hierarchy = "created"
    actions = ("revoke_tokens",)
    fields = ("id", "application", "user", "organization_display", "token_family", "access_token", "created",
              "revoked")
    readonly_fields = fields
    exclude = ("token", "token_checksum")

    @admin.display(description="client's organization")
    def organization_display(self, obj: Any) -> Any:
        return obj.application.organization

    @admin.action(description="Revoke selected tokens", permissions=["change"])
    def revoke_tokens(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        revoked = oauth_tokens_revoke(caller=Caller.system(actor=staff_user(request)),
                                      tokens=queryset.filter(revoked__isnull=True))
        self.message_user(request, f"Revoked {revoked} refresh token(s) and their access tokens.", messages.SUCCESS)


@admin.register(Grant)
class GrantAdmin(ReadOnlyObjectMixin, admin.ModelAdmin):
    """Authorization codes waiting to be redeemed (60 seconds at most): listed, never shown."""

    list_display = ("id", "application", "user", "scope", "created", "expires")
    list_select_related = ("application", "user")
    search_fields = ("=application__client_id", "application__name", "user__email")
    actions = None
    fields = ("id", "application", "user", "scope", "redirect_uri", "created", "expires")
    readonly_fields = fields
    exclude = ("code", "code_challenge", "nonce", "claims")


@admin.register(IDToken)
class IDTokenAdmin(ReadOnlyObjectMixin, admin.ModelAdmin):
    list_display = ("jti", "application", "user", "expires")
    list_select_related = ("application", "user")
    search_fields = ("=application__client_id", "application__name", "user__email")
    actions = None
    fields = ("jti", "application", "user", "scope", "created", "expires")
    readonly_fields = fields


@admin.register(DeviceGrant)
class DeviceGrantAdmin(ReadOnlyObjectMixin, admin.ModelAdmin):
    """Device authorizations (RFC 8628) waiting or decided; the device code is stored only as a hash and never
    shown."""

    list_display = ("id", "client_id", "user", "status", "scope", "expires")
    list_select_related = ("user",)
    list_filter = ("status",)
    search_fields = ("=client_id", "user__email")
    actions = None
    fields = ("id", "client_id", "user", "status", "scope", "interval", "expires", "last_checked")
    readonly_fields = fields
    exclude = ("device_code", "user_code")


@admin.register(SigningKey)
class SigningKeyAdmin(ReadOnlyObjectMixin, admin.ModelAdmin):
    """The keys that sign ID tokens and JWT access tokens: their public part only (``manage.py
    rotate_signing_key`` makes a new one)."""

    list_display = ("kid", "created_at", "retired_at")
    actions = None
    fields = ("kid", "public_jwk", "created_at", "retired_at")
    readonly_fields = fields
    exclude = ("encrypted_private_key",)
