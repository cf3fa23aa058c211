from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Protocol, cast

from csp.decorators import csp_update
from django.middleware.csrf import get_token
from django.utils.decorators import method_decorator
from drf_spectacular.utils import OpenApiParameter, extend_schema
from drf_spectacular.views import SpectacularSwaggerView
from rest_framework import serializers
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from portal import scopes as scope_registry
from portal.api.base import PortalAPIView
from portal.api.fields import iso


class _ApiKeyLike(Protocol):
    """What ``MeView`` shows of an API key (``apikeys.ApiKey``)."""

    public_id: str
    name: str


# The shapes of these three responses, for the OpenAPI document (the views build them directly: they are hot).


class HelloOutput(serializers.Serializer[Any]):
    message = serializers.CharField()


class NamedOutput(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    name = serializers.CharField()


class OrganizationOutput(NamedOutput):
    slug = serializers.CharField()


class UserOutput(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    email = serializers.EmailField()


class MeApiKeyOutput(serializers.Serializer[Any]):
    id = serializers.CharField()
    name = serializers.CharField()


class MeClientOutput(serializers.Serializer[Any]):
    clientId = serializers.CharField()  # noqa: N815 (the API's own field name)
    name = serializers.CharField()


class MeOutput(serializers.Serializer[Any]):
    authType = serializers.ChoiceField(choices=["api_key", "oauth2", "session"])  # noqa: N815
    organization = OrganizationOutput()
    application = NamedOutput(allow_null=True)
    user = UserOutput(allow_null=True, help_text="The person behind the credential, if any.")
    scopes = serializers.ListField(child=serializers.CharField())
    expiresAt = serializers.DateTimeField(allow_null=True)  # noqa: N815
    apiKey = MeApiKeyOutput(required=False, help_text="Only when calling with an API key.")  # noqa: N815
    client = MeClientOutput(required=False, help_text="Only when calling with an OAuth access token.")


class ScopeOutput(serializers.Serializer[Any]):
    name = serializers.CharField()
    description = serializers.CharField()


class PresetOutput(serializers.Serializer[Any]):
    name = serializers.CharField()
    scopes = serializers.ListField(child=serializers.CharField())


class ScopesOutput(serializers.Serializer[Any]):
    scopes = ScopeOutput(many=True)
    presets = PresetOutput(many=True)


class HelloView(PortalAPIView):
    """The first call of every quick start."""

    required_scopes: list[str] = []

    @extend_schema(
        summary="Say hello",
        parameters=[OpenApiParameter("name", {"type": "string", "minLength": 1, "maxLength": 100, "default": "World"},
                                     description="Who to greet.")],
        responses={200: HelloOutput},
    )
    def get(self, request: Request) -> Response:
        name = request.query_params.get("name", "World").strip()
        if not name or len(name) > 100:
            raise ValidationError({"name": ["Give a name of 1 to 100 characters."]})
        return Response({"message": f"Hello {name}!"})


class MeView(PortalAPIView):
    """Who is calling, with which organization, application and scopes."""

    required_scopes: list[str] = []

    @extend_schema(summary="Who is calling", responses={200: MeOutput})
    def get(self, request: Request) -> Response:
        caller = self.caller
        organization = caller.organization
        body = {
            "authType": caller.auth_type,
            "organization": {"id": organization.pk, "slug": organization.slug, "name": organization.name},
            "application": (
                {"id": caller.application.pk, "name": caller.application.name} if caller.application else None
            ),
            "user": ({"id": caller.user.pk, "email": getattr(caller.user, caller.user.get_email_field_name())}
                     if caller.user else None),
            "scopes": sorted(caller.scopes),
            "expiresAt": iso(caller.expires_at),
        }
        if caller.auth_type == "api_key":
            # An API key's caller always carries its key (apikeys.authentication), which the core does not import.
            key = cast(_ApiKeyLike, caller.credential)
            body["apiKey"] = {"id": key.public_id, "name": key.name}
        if caller.client is not None:
            body["client"] = {"clientId": caller.client.client_id, "name": caller.client.name}
        return Response(body)


class ScopesView(PortalAPIView):
    """Every scope with its description, and the presets. Public."""

    authentication_classes: Sequence[type[BaseAuthentication]] = []
    permission_classes = [AllowAny]

    @extend_schema(summary="List scopes and presets", responses={200: ScopesOutput})
    def get(self, request: Request) -> Response:
        return Response({
            "scopes": [{"name": name, "description": text} for name, text in scope_registry.registry().items()],
            "presets": [{"name": name, "scopes": values} for name, values in scope_registry.presets().items()],
        })


class NotFoundView(PortalAPIView):
    """Any path under /api/ that names nothing, a trailing-slash variant included: a JSON 404 to every method,
    counted per client IP and with rate-limit headers like every other API response."""

    authentication_classes: Sequence[type[BaseAuthentication]] = []
    permission_classes = [AllowAny]
    schema = None  # not an operation of the API

    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        raise NotFound()

    post = put = patch = delete = head = get
    # APIView.options takes DRF's Request (its stub ignores the same override of View.options), but mypy checks
    # an alias against View's HttpRequest signature.
    options = get  # type: ignore[assignment]


class ApiDocsView(SpectacularSwaggerView):
    """``/api/docs``: Swagger UI from the portal's static files, under the site's Content-Security-Policy.

    drf-spectacular's page starts Swagger UI with an inline script (and an inline style); the portal's template
    links both from ``static/`` instead, and hands the script its settings as a JSON block (``json_script``,
    data that is never executed). The one relaxation: Swagger UI's stylesheet draws its icons as ``data:``
    SVG images, which run no script (an image's SVG never does)."""

    template_name = "portal/swagger_ui.html"

    @extend_schema(exclude=True)
    @method_decorator(csp_update({"img-src": ["data:"]}))
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        response: Response = super().get(request, *args, **kwargs)
        data = response.data
        response.data["docs_config"] = {
            "schemaUrl": data["schema_url"],
            "settings": json.loads(data["settings"]),
            "oauth2Config": json.loads(data["oauth2_config"]) if data["oauth2_config"] else None,
            "schemaAuthNames": json.loads(data["schema_auth_names"]),
            "csrfHeaderName": data["csrf_header_name"],
            "csrfToken": get_token(request),
        }
        return response
