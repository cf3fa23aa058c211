"""API keys over HTTP. Thin: validate the shape, call a service, render."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from apikeys import selectors, services
from apikeys.api.serializers import (
    ApiKeyCreatedOutput,
    ApiKeyInput,
    ApiKeyOutput,
    ApiKeyRotatedOutput,
    ApiKeyRotateInput,
)
from applications.selectors import access_application_named_in_input
from portal.api.base import PortalAPIView, show_once


class ApiKeyListView(PortalAPIView):
    required_scopes = {"GET": ["keys:read"], "POST": ["keys:write"]}

    @extend_schema(summary="List API keys (not revoked)", responses={200: ApiKeyOutput(many=True)})
    def get(self, request: Request) -> Response:
        keys = selectors.organization_api_keys(self.caller.organization, include_revoked=False)
        return self.paginate(keys, ApiKeyOutput, request)

    @extend_schema(summary="Create an API key", request=ApiKeyInput, responses={201: ApiKeyCreatedOutput})
    def post(self, request: Request) -> Response:
        data = self.validated(ApiKeyInput, request)
        application = access_application_named_in_input(self.caller.organization, data["applicationId"])
        key, plaintext = services.api_key_create(
            caller=self.caller,
            application=application,
            name=data["name"],
            scope_preset=data.get("scopePreset"),
            scopes=data.get("scopes"),
            expires_in_days=data.get("expiresInDays"),
            environment=data["environment"],
            rate_limit_per_minute=data.get("rateLimitPerMinute"),
            allowed_ips=data.get("allowedIps"),
        )
        return show_once(Response({**ApiKeyOutput(key).data, "key": plaintext}, status=status.HTTP_201_CREATED))


class ApiKeyDetailView(PortalAPIView):
    """DELETE revokes; a revoked key is then a 404 here, like anything deleted (the dashboard keeps its history)."""

    required_scopes = {"GET": ["keys:read"], "DELETE": ["keys:write"]}

    def get_key(self, key_id: str):
        return selectors.access_api_key_by_id(self.caller.organization, key_id, include_revoked=False)

    @extend_schema(summary="Get an API key", responses={200: ApiKeyOutput})
    def get(self, request: Request, key_id: str) -> Response:
        return Response(ApiKeyOutput(self.get_key(key_id)).data)

    @extend_schema(summary="Revoke an API key", responses={204: None})
    def delete(self, request: Request, key_id: str) -> Response:
        key = self.get_key(key_id)
        services.api_key_revoke(caller=self.caller, key=key)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ApiKeyRotateView(PortalAPIView):
    required_scopes = {"POST": ["keys:write"]}

    @extend_schema(summary="Rotate an API key", request=ApiKeyRotateInput, responses={201: ApiKeyRotatedOutput})
    def post(self, request: Request, key_id: str) -> Response:
        key = selectors.access_api_key_by_id(
            self.caller.organization, key_id, include_revoked=False
        )
        data = self.validated(ApiKeyRotateInput, request)
        new_key, plaintext = services.api_key_rotate(
            caller=self.caller, key=key, grace_period_hours=data.get("gracePeriodHours"), name=data.get("name")
        )
        body = {**ApiKeyOutput(new_key).data, "key": plaintext, "rotatedKeyId": key.public_id}
        return show_once(Response(body, status=status.HTTP_201_CREATED))
