"""The JSON shapes of OAuth clients (camelCase, as the contract writes them); the services publish a client's
events in the same shape."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from oauthapps.models import ACCESS_TOKEN_FORMATS, OAuthClient
from oauthapps.server import GRANT_TYPES
from portal.api.base import StrictInputSerializer
from portal.api.fields import IsoDateTimeField, ScopeNameField

CLIENT_TYPES = [OAuthClient.CLIENT_CONFIDENTIAL, OAuthClient.CLIENT_PUBLIC]


class OAuthClientOutput(serializers.Serializer):
    """An OAuth client, without its secret."""

    id = serializers.IntegerField(source="pk")
    clientId = serializers.CharField(source="client_id")  # noqa: N815 (the API's own field names)
    name = serializers.CharField()
    applicationId = serializers.IntegerField(source="application_id")  # noqa: N815
    clientType = serializers.ChoiceField(source="client_type", choices=CLIENT_TYPES)  # noqa: N815
    grantTypes = serializers.ListField(source="grant_types", child=serializers.CharField())  # noqa: N815
    redirectUris = serializers.SerializerMethodField()  # noqa: N815
    allowedScopes = serializers.ListField(source="allowed_scopes", child=serializers.CharField())  # noqa: N815
    rateLimitPerMinute = serializers.IntegerField(source="rate_limit_per_minute", allow_null=True)  # noqa: N815
    accessTokenFormat = serializers.ChoiceField(  # noqa: N815
        source="access_token_format", choices=list(ACCESS_TOKEN_FORMATS),
        help_text="opaque: random strings, checked with introspection; jwt: RFC 9068 JWTs (5 minutes) that "
                  "other services verify with the JWKS alone.",
    )
    createdAt = IsoDateTimeField(source="created")  # noqa: N815
    updatedAt = IsoDateTimeField(source="updated")  # noqa: N815

    def get_redirectUris(self, client: OAuthClient) -> list[str]:  # noqa: N802
        return client.redirect_uris.split()


class OAuthClientCreatedOutput(OAuthClientOutput):
    """A new client, or one with a new secret: the secret is in this response only."""

    clientSecret = serializers.CharField(  # noqa: N815
        allow_null=True, help_text="Store it now: it is never shown again. Null for a public client.",
    )


@extend_schema_field({"type": "string", "enum": list(GRANT_TYPES)})
class GrantTypeField(serializers.CharField):
    """A grant's RFC 6749 name (checked by the service, whose message says what is allowed)."""


class OAuthClientInput(StrictInputSerializer):
    name = serializers.CharField(max_length=120)
    applicationId = serializers.IntegerField(min_value=1)  # noqa: N815
    clientType = serializers.ChoiceField(choices=CLIENT_TYPES, default="confidential")  # noqa: N815
    grantTypes = serializers.ListField(child=GrantTypeField(max_length=60), max_length=len(GRANT_TYPES))  # noqa: N815
    redirectUris = serializers.ListField(  # noqa: N815
        child=serializers.CharField(max_length=2000), required=False, default=list, max_length=20
    )
    allowedScopes = serializers.ListField(child=ScopeNameField(max_length=64), max_length=100)  # noqa: N815
    rateLimitPerMinute = serializers.IntegerField(required=False, allow_null=True)  # noqa: N815
    accessTokenFormat = serializers.ChoiceField(choices=list(ACCESS_TOKEN_FORMATS), default="opaque")  # noqa: N815


class OAuthClientPatchInput(StrictInputSerializer):
    name = serializers.CharField(max_length=120, required=False)
    grantTypes = serializers.ListField(child=GrantTypeField(max_length=60), required=False)  # noqa: N815
    redirectUris = serializers.ListField(child=serializers.CharField(max_length=2000), required=False)  # noqa: N815
    allowedScopes = serializers.ListField(child=ScopeNameField(max_length=64), required=False)  # noqa: N815
    rateLimitPerMinute = serializers.IntegerField(required=False, allow_null=True)  # noqa: N815
    accessTokenFormat = serializers.ChoiceField(choices=list(ACCESS_TOKEN_FORMATS), required=False)  # noqa: N815


class OAuthClientRotateSecretInput(StrictInputSerializer):
    """No fields: send `{}` or no body."""
