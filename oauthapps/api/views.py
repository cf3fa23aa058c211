"""OAuth clients over HTTP, and ``POST /api/v1/auth``: the client-credentials grant for clients that speak JSON."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from drf_spectacular.utils import extend_schema
from oauth2_provider.settings import oauth2_settings
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from applications.selectors import access_application_named_in_input
from audit.services import audit_guessing_refused
from oauthapps import selectors
from oauthapps.api.serializers import (
    OAuthClientCreatedOutput,
    OAuthClientInput,
    OAuthClientOutput,
    OAuthClientPatchInput,
    OAuthClientRotateSecretInput,
)
from oauthapps.client_auth import sends_basic
from oauthapps.models import OAuthClient
from oauthapps.services import clients as services
from portal.api.base import PortalAPIView, StrictInputSerializer, show_once
from portal.api.errors import AuthFailed, Forbidden, InvalidInput, RateLimited, ServiceUnavailable, render
from portal.api.pagination import NewestFirstPagination
from portal.api.schema import error_responses
from portal.ratelimit import SERVICE_RETRY_SECONDS, guard, record_failure


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


