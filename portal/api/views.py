from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from portal import scopes as scope_registry
from portal.api.base import PortalAPIView
from portal.api.errors import NOT_FOUND, RateLimited, error_response
from portal.api.fields import iso
from portal.ratelimit import api_usage


class HelloView(PortalAPIView):
    """The first call of every quick start."""

    required_scopes: list[str] = []

    def get(self, request: Request) -> Response:
        name = request.query_params.get("name", "World").strip()
        if not name or len(name) > 100:
            raise ValidationError({"name": ["Give a name of 1 to 100 characters."]})
        return Response({"message": f"Hello {name}!"})


class MeView(PortalAPIView):
    """Who is calling, with which organization, application and scopes."""

    required_scopes: list[str] = []

    def get(self, request: Request) -> Response:
        caller = self.caller
        organization = caller.organization
        body = {
            "authType": caller.auth_type,
            "organization": {"id": organization.pk, "slug": organization.slug, "name": organization.name},
            "application": (
                {"id": caller.application.pk, "name": caller.application.name} if caller.application else None
            ),
            "user": {"id": caller.user.pk, "email": caller.user.email} if caller.user else None,
            "scopes": sorted(caller.scopes),
            "expiresAt": iso(caller.expires_at),
        }
        if caller.auth_type == "api_key":
            body["apiKey"] = {"id": caller.credential.public_id, "name": caller.credential.name}
        if caller.client is not None:
            body["client"] = {"clientId": caller.client.client_id, "name": caller.client.name}
        return Response(body)


class ScopesView(PortalAPIView):
    """Every scope with its description, and the presets. Public."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    def get(self, request: Request) -> Response:
        return Response({
            "scopes": [{"name": name, "description": text} for name, text in scope_registry.registry().items()],
            "presets": [{"name": name, "scopes": values} for name, values in scope_registry.presets().items()],
        })


def not_found(request: HttpRequest, *args, **kwargs) -> JsonResponse:
    """Any path under /api/ that names nothing, a trailing-slash variant included (counted per client IP)."""
    usage = api_usage(request, None)
    if usage is not None and usage.exceeded:
        response = error_response(429, "RATE_LIMITED", RateLimited.default_detail)
        response["Retry-After"] = str(usage.retry_after)
    else:
        response = error_response(*NOT_FOUND)
    for name, value in (usage.headers() if usage else {}).items():
        response[name] = value
    return response
