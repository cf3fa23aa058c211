"""API errors as data, and the one handler that renders every error in the contract's envelope:

    {"error": "Authentication failed", "code": "AUTH_FAILED"}

plus ``details`` (field -> messages) for 400 and ``requiredScopes`` for 403 INSUFFICIENT_SCOPE.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core import exceptions as django_exceptions
from django.db import InterfaceError, OperationalError
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status

from portal.scopes import ScopeEscalation

logger = logging.getLogger(__name__)


class InsufficientScope(exceptions.APIException):
    status_code = status.HTTP_403_FORBIDDEN
    default_detail = "The credential lacks a scope this request needs."
    default_code = "INSUFFICIENT_SCOPE"

    def __init__(self, required_scopes: list[str], detail: str | None = None) -> None:
        super().__init__(detail or self.default_detail)
        self.required_scopes = list(required_scopes)


class ServiceUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The service is temporarily unavailable. Try again shortly."
    default_code = "SERVICE_UNAVAILABLE"

    def __init__(self, detail: str | None = None, retry_after: int = 5) -> None:
        super().__init__(detail or self.default_detail)
        self.retry_after = retry_after


class RateLimited(exceptions.APIException):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_detail = "Rate limit exceeded. Retry after the time in the Retry-After header."
    default_code = "RATE_LIMITED"

    def __init__(self, retry_after: int, detail: str | None = None) -> None:
        super().__init__(detail or self.default_detail)
        self.retry_after = retry_after


# Every ``code`` an error body can carry (the ``Error`` component of the OpenAPI document lists them).
ERROR_CODES = [
    "VALIDATION_ERROR",
    "AUTH_FAILED",
    "INSUFFICIENT_SCOPE",
    "FORBIDDEN",
    "NOT_FOUND",
    "METHOD_NOT_ALLOWED",
    "NOT_ACCEPTABLE",
    "PAYLOAD_TOO_LARGE",
    "UNSUPPORTED_MEDIA_TYPE",
    "RATE_LIMITED",
    "SERVER_ERROR",
    "SERVICE_UNAVAILABLE",
]

# (status, code, message) for each kind of failure the contract names.
AUTH_FAILED = (401, "AUTH_FAILED", "Authentication failed")
NOT_FOUND = (404, "NOT_FOUND", "Not found")
PAYLOAD_TOO_LARGE = (413, "PAYLOAD_TOO_LARGE", "The request body is larger than 1 MiB")
SERVER_ERROR = (500, "SERVER_ERROR", "Something went wrong on our side. It has been logged.")


def error_response(status_code: int, code: str, message: str, **extra: Any) -> JsonResponse:
    body = {"error": message, "code": code, **{k: v for k, v in extra.items() if v is not None}}
    response = JsonResponse(body, status=status_code)
    if status_code == 401:
        response["WWW-Authenticate"] = 'Bearer realm="api"'
    response["Cache-Control"] = "no-store"
    return response


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _details(detail: Any) -> dict[str, list[str]]:
    """DRF or Django validation detail as ``{"fieldName": ["message", ...]}``; ``non_field_errors`` -> ``body``."""
    if isinstance(detail, dict):
        out: dict[str, list[str]] = {}
        for key, value in detail.items():
            name = "body" if key in ("non_field_errors", "__all__") else camel(str(key))
            if isinstance(value, dict):
                for sub_key, sub_value in _details(value).items():
                    out[f"{name}.{sub_key}"] = sub_value
            elif isinstance(value, list | tuple):
                out[name] = [str(v) if not isinstance(v, dict) else str(next(iter(v.values()), "")) for v in value]
            else:
                out[name] = [str(value)]
        return out
    if isinstance(detail, list | tuple):
        return {"body": [str(v) for v in detail]}
    return {"body": [str(detail)]}


def render_exception(exc: Exception) -> JsonResponse | None:
    """The envelope for ``exc``, or None when it is not an error the API knows (a bug: 500)."""
    if isinstance(exc, django_exceptions.ValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        return error_response(400, "VALIDATION_ERROR", "Invalid input", details=_details(detail))
    if isinstance(exc, exceptions.ValidationError):
        return error_response(400, "VALIDATION_ERROR", "Invalid input", details=_details(exc.detail))
    if isinstance(exc, exceptions.ParseError):
        return error_response(400, "VALIDATION_ERROR", "Malformed request body",
                              details={"body": [str(exc.detail)]})
    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        return error_response(*AUTH_FAILED)
    if isinstance(exc, ScopeEscalation):
        return error_response(403, "INSUFFICIENT_SCOPE", str(exc), requiredScopes=exc.missing)
    if isinstance(exc, InsufficientScope):
        return error_response(403, "INSUFFICIENT_SCOPE", str(exc.detail), requiredScopes=exc.required_scopes)
    if isinstance(exc, exceptions.PermissionDenied | django_exceptions.PermissionDenied):
        message = str(getattr(exc, "detail", "") or exc) or "Your role does not allow this."
        if message == exceptions.PermissionDenied.default_detail:
            message = "Your role does not allow this."
        return error_response(403, "FORBIDDEN", message)
    if isinstance(exc, exceptions.NotFound | Http404):
        return error_response(*NOT_FOUND)
    if isinstance(exc, exceptions.MethodNotAllowed):
        return error_response(405, "METHOD_NOT_ALLOWED", str(exc.detail))
    if isinstance(exc, exceptions.UnsupportedMediaType):
        return error_response(415, "UNSUPPORTED_MEDIA_TYPE", f"{exc.detail} Send application/json.")
    if isinstance(exc, exceptions.NotAcceptable):
        return error_response(406, "NOT_ACCEPTABLE", str(exc.detail))
    if isinstance(exc, django_exceptions.RequestDataTooBig):
        return error_response(*PAYLOAD_TOO_LARGE)
    if isinstance(exc, RateLimited | exceptions.Throttled):
        wait = getattr(exc, "retry_after", None) or getattr(exc, "wait", None) or 1
        response = error_response(429, "RATE_LIMITED", str(exc.detail))
        response["Retry-After"] = str(max(1, int(wait)))
        return response
    if isinstance(exc, ServiceUnavailable):
        response = error_response(503, "SERVICE_UNAVAILABLE", str(exc.detail))
        response["Retry-After"] = str(exc.retry_after)
        return response
    if isinstance(exc, OperationalError | InterfaceError):
        logger.error("Database unavailable: %s", type(exc).__name__)
        response = error_response(503, "SERVICE_UNAVAILABLE", ServiceUnavailable.default_detail)
        response["Retry-After"] = "5"
        return response
    if isinstance(exc, exceptions.APIException):
        return error_response(exc.status_code, str(exc.default_code).upper(), str(exc.detail))
    return None


def exception_handler(exc: Exception, context: dict) -> JsonResponse | None:
    """DRF's EXCEPTION_HANDLER. Unknown exceptions fall through to ``ApiErrorMiddleware`` (500)."""
    return render_exception(exc)
