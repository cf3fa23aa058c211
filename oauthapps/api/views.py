"""OAuth clients over HTTP, and ``POST /api/v1/auth``: the client-credentials grant for clients that speak JSON."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from drf_spectacular.utils import extend_schema, extend_schema_field
from oauth2_provider.settings import oauth2_settings
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from applications.selectors import access_application_named_in_input
from audit.services import audit_guessing_refused
from oauthapps import selectors
from oauthapps.client_auth import sends_basic
from oauthapps.models import ACCESS_TOKEN_FORMATS, OAuthClient
from oauthapps.server import GRANT_TYPES
from oauthapps.services import clients as services
from portal.api.base import PortalAPIView, StrictInputSerializer, show_once
from portal.api.errors import AuthFailed, Forbidden, InvalidInput, RateLimited, ServiceUnavailable, render
from portal.api.fields import IsoDateTimeField, ScopeNameField
from portal.api.pagination import NewestFirstPagination
from portal.api.schema import error_responses
from portal.ratelimit import SERVICE_RETRY_SECONDS, guard, record_failure

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


class OAuthClientPagination(NewestFirstPagination):
    ordering = ("-created", "-id")  # DOT's application model names it ``created``, not ``created_at``


class OAuthClientListView(PortalAPIView):
    required_scopes = {"GET": ["apps:read"], "POST": ["apps:write"]}
    pagination_class = OAuthClientPagination

    @extend_schema(summary="List OAuth clients", responses={200: OAuthClientOutput(many=True)})
    def get(self, request: Request) -> Response:
        return self.paginate(selectors.organization_oauth_clients(self.caller.organization), OAuthClientOutput,
                             request)

    @extend_schema(summary="Register an OAuth client", request=OAuthClientInput,
                   responses={201: OAuthClientCreatedOutput})
    def post(self, request: Request) -> Response:
        data = self.validated(OAuthClientInput, request)
        application = access_application_named_in_input(self.caller.organization, data["applicationId"])
        client, secret = services.oauth_client_create(
            caller=self.caller, application=application, name=data["name"], client_type=data["clientType"],
            grant_types=data["grantTypes"], redirect_uris=data["redirectUris"],
            allowed_scopes=data["allowedScopes"], rate_limit_per_minute=data.get("rateLimitPerMinute"),
            access_token_format=data["accessTokenFormat"],
        )
        body = {**OAuthClientOutput(client).data, "clientSecret": secret}
        return show_once(Response(body, status=status.HTTP_201_CREATED))


class OAuthClientDetailView(PortalAPIView):
    required_scopes = {"GET": ["apps:read"], "PATCH": ["apps:write"], "DELETE": ["apps:write"]}

    def get_client(self, client_id: int) -> OAuthClient:
        return selectors.access_oauth_client_by_id(self.caller.organization, client_id)

    @extend_schema(summary="Get an OAuth client", responses={200: OAuthClientOutput})
    def get(self, request: Request, client_id: int) -> Response:
        return Response(OAuthClientOutput(self.get_client(client_id)).data)

    @extend_schema(summary="Change an OAuth client", request=OAuthClientPatchInput, responses={200: OAuthClientOutput})
    def patch(self, request: Request, client_id: int) -> Response:
        client = self.get_client(client_id)
        data = self.validated(OAuthClientPatchInput, request)
        client = services.oauth_client_update(
            caller=self.caller, client=client, name=data.get("name"), grant_types=data.get("grantTypes"),
            redirect_uris=data.get("redirectUris"), allowed_scopes=data.get("allowedScopes"),
            rate_limit_per_minute=data["rateLimitPerMinute"] if "rateLimitPerMinute" in data else ...,
            access_token_format=data.get("accessTokenFormat"),
        )
        return Response(OAuthClientOutput(client).data)

    @extend_schema(summary="Delete an OAuth client; its tokens stop working", responses={204: None})
    def delete(self, request: Request, client_id: int) -> Response:
        services.oauth_client_delete(caller=self.caller, client=self.get_client(client_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class OAuthClientRotateSecretView(PortalAPIView):
    required_scopes = {"POST": ["apps:write"]}

    @extend_schema(summary="Give an OAuth client a new secret", request=OAuthClientRotateSecretInput,
                   responses={201: OAuthClientCreatedOutput})
    def post(self, request: Request, client_id: int) -> Response:
        client = selectors.access_oauth_client_by_id(self.caller.organization, client_id)
        self.validated(OAuthClientRotateSecretInput, request)
        client, secret = services.oauth_client_rotate_secret(caller=self.caller, client=client)
        body = {**OAuthClientOutput(client).data, "clientSecret": secret}
        return show_once(Response(body, status=status.HTTP_201_CREATED))


class ClientCredentialsInput(StrictInputSerializer):
    """The client-credentials grant in JSON."""

    clientId = serializers.CharField(max_length=100)  # noqa: N815
    clientSecret = serializers.CharField(max_length=200)  # noqa: N815
    scope = serializers.CharField(max_length=2000, required=False, allow_blank=True,
                                  help_text="Space-separated scopes; all the client's allowed scopes when absent.")


class AccessTokenOutput(serializers.Serializer):
    accessToken = serializers.CharField()  # noqa: N815
    tokenType = serializers.ChoiceField(choices=["Bearer"])  # noqa: N815
    expiresIn = serializers.IntegerField(help_text="Seconds until the token expires.")  # noqa: N815
    scope = serializers.CharField(help_text="The scopes granted, space-separated.")


def token_server():
    return oauth2_settings.OAUTH2_SERVER_CLASS(oauth2_settings.OAUTH2_VALIDATOR_CLASS(),
                                              **oauth2_settings.server_kwargs)


class JsonTokenView(PortalAPIView):
    """``POST /api/v1/auth``: the same client-credentials grant as ``/oauth/token/``, through the same
    django-oauth-toolkit server, in JSON and in the API's error format."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(summary="Get an access token (client credentials, JSON)", request=ClientCredentialsInput,
                   responses={200: AccessTokenOutput, **error_responses(401, 403)})
    def post(self, request: Request):
        data = self.validated(ClientCredentialsInput, request)
        verdict = guard(request, kind="client_auth", identifier=data["clientId"])
        audit_guessing_refused(verdict)
        if verdict.unavailable:
            raise ServiceUnavailable(retry_after=SERVICE_RETRY_SECONDS)
        if verdict.wait is not None:
            raise RateLimited(retry_after=verdict.wait,
                              detail="Too many failed attempts. Retry after the Retry-After time.")
        if sends_basic(request.headers.get("Authorization")):
            # RFC 6749 2.3: one authentication method a request; this endpoint's is the JSON body.
            return render(InvalidInput({"authorization": [
                "Send the client's credentials once: clientId and clientSecret in the body, without an "
                "Authorization: Basic header."]}))
        form = {"grant_type": "client_credentials", "client_id": data["clientId"],
                "client_secret": data["clientSecret"]}
        if data.get("scope"):
            form["scope"] = data["scope"]
        _headers, body, status_code = token_server().create_token_response(
            request.build_absolute_uri(), http_method="POST", body=urlencode(form),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        payload = json.loads(body)
        if payload.get("error") == "invalid_client":
            record_failure(request, kind="client_auth", identifier=data["clientId"])
        if status_code == 200:
            return show_once(Response({
                "accessToken": payload["access_token"],
                "tokenType": "Bearer",
                "expiresIn": payload["expires_in"],
                "scope": payload.get("scope", ""),
            }))
        return self.error(payload.get("error", ""), payload.get("error_description", ""))

    @staticmethod
    def error(code: str, description: str):
        if code == "invalid_client":
            return render(AuthFailed())
        if code == "unauthorized_client":
            return render(Forbidden("This client is not allowed the client_credentials grant."))
        if code == "invalid_scope":
            return render(InvalidInput({"scope": [description or "A scope beyond the client's allowed scopes."]}))
        return render(InvalidInput({"body": [description or code or "The token request was refused."]}))


