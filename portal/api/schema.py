"""The OpenAPI document (drf-spectacular), with what every operation shares written once, here.

``PortalAutoSchema`` reads each view's ``required_scopes``: the scopes go into the operation's description and
its OAuth 2.0 security requirement, and the error responses the operation can give (the ``Error`` envelope of
``portal.api.errors``) follow from what it is: public or not, with a body, with an id in the path, a list.
Views declare only their own parameters, request body and success responses with ``extend_schema``.
"""

from __future__ import annotations

import inspect
from http import HTTPStatus
from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension, OpenApiSerializerFieldExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent, force_instance
from drf_spectacular.utils import Direction, OpenApiResponse
from rest_framework import serializers
from rest_framework.permissions import SAFE_METHODS

from portal import scopes as scope_registry
from portal.api.base import StrictInputSerializer
from portal.api.errors import ERROR_CODES
from portal.api.permissions import required_scopes
from portal.conf import portal_settings


class ErrorSerializer(serializers.Serializer[Any]):
    """The body of every error response, whatever the status."""

    error = serializers.CharField(help_text="What went wrong, for people.")
    code = serializers.ChoiceField(choices=ERROR_CODES, help_text="What went wrong, for programs.")
    details = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()), required=False,
        help_text="400 only: each field (camelCase; `body` for the body as a whole) with its messages.",
    )
    requiredScopes = serializers.ListField(  # noqa: N815 (the API's own field name)
        child=serializers.CharField(), required=False,
        help_text="403 `INSUFFICIENT_SCOPE` only: the scopes the credential lacks.",
    )


ERROR_DESCRIPTIONS = {
    400: "`VALIDATION_ERROR`: bad input; `details` names each field with its messages.",
    401: "`AUTH_FAILED`: missing, malformed, unknown, revoked or expired credential.",
    403: "`INSUFFICIENT_SCOPE` (with `requiredScopes`), or `FORBIDDEN` when the person's role does not allow it.",
    404: "`NOT_FOUND`: an id (or a `cursor`) that names nothing the caller can see.",
    413: "`PAYLOAD_TOO_LARGE`: a body over 1 MiB.",
    415: "`UNSUPPORTED_MEDIA_TYPE`: send `application/json`.",
    429: "`RATE_LIMITED`: retry after `Retry-After` seconds.",
    500: "`SERVER_ERROR`: a fault on the portal's side; it has been logged.",
    503: "`SERVICE_UNAVAILABLE`: retry after `Retry-After` seconds.",
}

# Response headers, defined once under components/headers by ``add_header_components``.
HEADERS = {
    "X-RateLimit-Limit": {"schema": {"type": "integer"}, "description": "Requests allowed in the current minute."},
    "X-RateLimit-Remaining": {"schema": {"type": "integer"}, "description": "Requests left in the current minute."},
    "X-RateLimit-Reset": {
        "schema": {"type": "string", "format": "date-time"}, "description": "When the counter starts again (UTC).",
    },
    "Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait before the next request."},
    "X-Request-Id": {"schema": {"type": "string"},
                     "description": "This request's id, as the request log (`GET /api/v1/request-logs`) names it."},
}


def header_ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/headers/{name}"}


def add_header_components(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: the headers that ``header_ref`` points at."""
    result.setdefault("components", {})["headers"] = HEADERS
    return result


def own_doc(obj: Any) -> str:
    """The docstring written on ``obj`` itself: a base class's docstring is about the base, not this operation."""
    doc = obj.__dict__.get("__doc__") if isinstance(obj, type) else getattr(obj, "__doc__", None)
    return inspect.cleandoc(doc).replace("``", "`") if doc else ""  # reStructuredText to Markdown


def error_responses(*statuses: int) -> dict[int, OpenApiResponse]:
    """``{status: Error response}`` for ``extend_schema(responses=...)``, for errors the rules below cannot know."""
    return {status: OpenApiResponse(ErrorSerializer, description=ERROR_DESCRIPTIONS[status]) for status in statuses}


def scope_note(scopes: list[str] | None) -> str:
    if scopes is None:
        return "No credential needed."
    if not scopes:
        return "Any valid credential (no particular scope)."
    label = "Required scope" if len(scopes) == 1 else "Required scopes"
    return f"{label}: " + ", ".join(f"`{scope}`" for scope in scopes) + " (or `admin`)."


class PortalAutoSchema(AutoSchema):
    """drf-spectacular's AutoSchema plus the portal's conventions: scopes, security and error responses."""

    def operation_scopes(self) -> list[str] | None:
        """The scopes this operation needs, or None when it takes no credential at all."""
        if not self.view.get_authenticators():
            return None
        return required_scopes(self.view, self.method)

    def error_statuses(self) -> set[int]:
        scopes = self.operation_scopes()
        has_body = self.method in ("POST", "PUT", "PATCH")
        statuses = {429, 500, 503}
        if scopes is not None:
            statuses |= {400, 401}  # 400: two different credentials in the headers
            if scopes or self.method not in SAFE_METHODS:
                statuses.add(403)  # a scope, or the session's CSRF check
        if has_body:
            statuses |= {400, 413, 415}
        if "{" in self.path or self._is_list_view():
            statuses.add(404)  # an id in the path, or a list's cursor
        return statuses

    # drf-spectacular's own override of DRF's ViewInspector.get_description(path, method) drops the arguments
    # (and ignores the same error in its source); the stubs still carry DRF's signature.
    def get_description(self) -> str:  # type: ignore[override]
        method = getattr(self.view, self.method.lower(), None)
        parts = [own_doc(type(self.view)), own_doc(method), scope_note(self.operation_scopes())]
        return "\n\n".join(filter(None, parts))

    def get_auth(self) -> list[dict[str, list[str]]]:
        return [] if self.operation_scopes() is None else super().get_auth()

    def get_serializer_name(self, serializer: serializers.Serializer[Any], direction: Direction) -> str:
        name = super().get_serializer_name(serializer, direction)
        for suffix in ("PatchInput", "Input", "Output"):  # "Patched...Request" is added for patch bodies
            if name.endswith(suffix) and name != suffix:
                return name.removesuffix(suffix)
        return name

    def _map_basic_serializer(self, serializer: Any, direction: str) -> dict[str, Any]:
        schema: dict[str, Any] = super()._map_basic_serializer(serializer, direction)
        schema.pop("description", None)
        if description := own_doc(type(force_instance(serializer))):
            schema["description"] = description
        if isinstance(force_instance(serializer), StrictInputSerializer):
            schema["additionalProperties"] = False  # unknown fields are a 400, not ignored
        return schema

    def _get_response_bodies(self, direction: Direction = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        for status, response in error_responses(*self.error_statuses()).items():
            responses.setdefault(str(status), self._get_response_for_code(response, str(status), direction=direction))
        for code, response in responses.items():
            response["description"] = response.get("description") or HTTPStatus(int(code)).phrase
        return dict(sorted(responses.items()))

    def _get_response_headers_for_code(self, status_code: str, direction: str = "response") -> dict[str, Any]:
        names = ["X-Request-Id", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"]
        if status_code in ("429", "503"):
            names.append("Retry-After")
        return {**{name: header_ref(name) for name in names}, **super()._get_response_headers_for_code(status_code)}


class ApiKeyScheme(OpenApiAuthenticationExtension):
    """An API key, as ``X-API-Key`` or as a Bearer token."""

    target_class = "apikeys.authentication.ApiKeyAuthentication"
    name = ["ApiKeyAuth", "BearerAuth"]

    def get_security_requirement(self, auto_schema: AutoSchema) -> list[dict[str, list[str]]]:
        return [{"ApiKeyAuth": []}, {"BearerAuth": []}]

    def get_security_definition(self, auto_schema: AutoSchema) -> list[dict[str, Any]]:
        prefix = portal_settings.KEY_PREFIX
        return [
            {"type": "apiKey", "in": "header", "name": "X-API-Key",
             "description": f"An API key: `{prefix}_live_...` or `{prefix}_test_...`."},
            {"type": "http", "scheme": "bearer",
             "description": "`Authorization: Bearer <API key or OAuth 2.0 access token>`."},
        ]


class OAuthTokenScheme(OpenApiAuthenticationExtension):
    """An OAuth 2.0 access token (sent as a Bearer token); the operation's scopes are its requirement."""

    target_class = "oauthapps.authentication.OAuthTokenAuthentication"
    name = "OAuth2"

    def get_security_requirement(self, auto_schema: AutoSchema) -> dict[str, list[str]]:
        scopes = auto_schema.operation_scopes() if isinstance(auto_schema, PortalAutoSchema) else None
        return {self.name: scopes or []}

    def get_security_definition(self, auto_schema: AutoSchema) -> dict[str, Any]:
        base = portal_settings.BASE_URL
        scopes = scope_registry.registry()
        return {
            "type": "oauth2",
            "description": "Authorization code with PKCE (`S256`), or client credentials (also `POST /api/v1/auth`).",
            "flows": {
                "authorizationCode": {
                    "authorizationUrl": f"{base}/oauth/authorize/",
                    "tokenUrl": f"{base}/oauth/token/",
                    "refreshUrl": f"{base}/oauth/token/",
                    "scopes": scopes,
                },
                "clientCredentials": {"tokenUrl": f"{base}/oauth/token/", "scopes": scopes},
            },
        }


class PortalSessionScheme(OpenApiAuthenticationExtension):
    """The dashboard's session serves the browsable API; API clients never use it, so it is not advertised."""

    target_class = "accounts.authentication.PortalSessionAuthentication"
    name: list[str] = []

    # drf-spectacular's get_auth() skips a None requirement (openapi.py), though its annotation leaves None out.
    def get_security_requirement(self, auto_schema: AutoSchema) -> None:  # type: ignore[override]
        return None

    def get_security_definition(self, auto_schema: AutoSchema) -> list[dict[str, Any]]:
        return []


def registry_enum(auto_schema: AutoSchema, name: str, values: list[str]) -> dict[str, Any]:
    """A named enum component read from the registry when the document is made, so a site's own scopes and presets
    are listed too (drf-spectacular's ENUM_NAME_OVERRIDES are cached once per process)."""
    component = ResolvedComponent(name=name, type=ResolvedComponent.SCHEMA, object=name,
                                  schema={"type": "string", "enum": values})
    auto_schema.registry.register_on_missing(component)
    return component.ref


class ScopeNameFieldExtension(OpenApiSerializerFieldExtension):
    target_class = "portal.api.fields.ScopeNameField"

    def map_serializer_field(self, auto_schema: AutoSchema, direction: str) -> dict[str, Any]:
        return registry_enum(auto_schema, "ScopeName", list(scope_registry.registry()))


class PresetNameFieldExtension(OpenApiSerializerFieldExtension):
    target_class = "portal.api.fields.PresetNameField"

    def map_serializer_field(self, auto_schema: AutoSchema, direction: str) -> dict[str, Any]:
        return registry_enum(auto_schema, "ScopePresetName", list(scope_registry.presets()))
