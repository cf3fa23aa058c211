"""API errors as data, and the one handler that renders every error in the contract's envelope:

    {"error": "Authentication failed", "code": "AUTH_FAILED"}

plus ``details`` (field -> messages) for 400 and ``requiredScopes`` for 403 INSUFFICIENT_SCOPE.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.core import exceptions as django_exceptions
from django.db import InterfaceError, OperationalError
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status

from portal.scopes import ScopeEscalation

logger = logging.getLogger(__name__)


class ApiError(exceptions.APIException):
    """An error of the contract, as data: its status, code and message, and what it adds to the envelope
    (``extra``) or to the response's headers (``headers``). DRF's own exceptions are translated into one of
    these by ``as_api_error``."""

    status_code: int = status.HTTP_400_BAD_REQUEST  # int: each kind has its own
    default_detail = "Invalid input"
    default_code = "VALIDATION_ERROR"

    def extra(self) -> dict[str, Any]:
        return {}

    def headers(self) -> dict[str, str]:
        return {}


class InvalidInput(ApiError):
    def __init__(self, details: dict[str, list[str]], detail: str | None = None) -> None:
        super().__init__(detail or self.default_detail)
        self.details = details

    def extra(self) -> dict[str, Any]:
        return {"details": self.details}


class AuthFailed(ApiError):
    status_code = status.HTTP_401_UNAUTHORIZED
    default_detail = "Authentication failed"
    default_code = "AUTH_FAILED"

    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": 'Bearer realm="api"'}


class InsufficientScope(ApiError):
    status_code = status.HTTP_403_FORBIDDEN
    default_detail = "The credential lacks a scope this request needs."
    default_code = "INSUFFICIENT_SCOPE"

    def __init__(self, required_scopes: list[str], detail: str | None = None) -> None:
        super().__init__(detail or self.default_detail)
        self.required_scopes = list(required_scopes)

    def extra(self) -> dict[str, Any]:
        return {"requiredScopes": self.required_scopes}


class Forbidden(ApiError):
    status_code = status.HTTP_403_FORBIDDEN
    default_detail = "Your role does not allow this."
    default_code = "FORBIDDEN"


class NotFound(ApiError):
    status_code = status.HTTP_404_NOT_FOUND
    default_detail = "Not found"
    default_code = "NOT_FOUND"


class MethodNotAllowed(ApiError):
    status_code = status.HTTP_405_METHOD_NOT_ALLOWED
    default_code = "METHOD_NOT_ALLOWED"


class NotAcceptable(ApiError):
    status_code = status.HTTP_406_NOT_ACCEPTABLE
    default_code = "NOT_ACCEPTABLE"


class PayloadTooLarge(ApiError):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is larger than 1 MiB"
    default_code = "PAYLOAD_TOO_LARGE"


class UnsupportedMediaType(ApiError):
    status_code = status.HTTP_415_UNSUPPORTED_MEDIA_TYPE
    default_code = "UNSUPPORTED_MEDIA_TYPE"


class RateLimited(ApiError):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_detail = "Rate limit exceeded. Retry after the time in the Retry-After header."
    default_code = "RATE_LIMITED"

    def __init__(self, retry_after: int, detail: str | None = None) -> None:
        super().__init__(detail or self.default_detail)
        self.retry_after = retry_after

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(max(1, int(self.retry_after)))}


class ServerError(ApiError):
    status_code = status.HTTP_500_INTERNAL_SERVER_ERROR
    default_detail = "Something went wrong on our side. It has been logged."
    default_code = "SERVER_ERROR"


class ServiceUnavailable(ApiError):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The service is temporarily unavailable. Try again shortly."
    default_code = "SERVICE_UNAVAILABLE"

    def __init__(self, detail: str | None = None, retry_after: int = 5) -> None:
        super().__init__(detail or self.default_detail)
        self.retry_after = retry_after

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


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

def error_response(status_code: int, code: str, message: str, **extra: Any) -> JsonResponse:
    body = {"error": message, "code": code, **{k: v for k, v in extra.items() if v is not None}}
    response = JsonResponse(body, status=status_code)
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


def _forbidden(exc: Exception) -> ApiError:
    message = str(getattr(exc, "detail", "") or exc) or Forbidden.default_detail
    if message == exceptions.PermissionDenied.default_detail:
        message = Forbidden.default_detail
    return Forbidden(message)


def _database_unavailable(exc: Exception) -> ApiError:
    logger.error("Database unavailable: %s", type(exc).__name__)
    return ServiceUnavailable()


# What each foreign exception is in the contract's terms, first match wins (the portal's own are ApiErrors).
TRANSLATIONS: list[tuple[type | tuple[type, ...], Callable[[Any], ApiError]]] = [
    (django_exceptions.ValidationError, lambda exc: InvalidInput(
        _details(exc.message_dict if hasattr(exc, "error_dict") else exc.messages))),
    (exceptions.ValidationError, lambda exc: InvalidInput(_details(exc.detail))),
    (exceptions.ParseError, lambda exc: InvalidInput({"body": [str(exc.detail)]}, "Malformed request body")),
    ((exceptions.NotAuthenticated, exceptions.AuthenticationFailed), lambda exc: AuthFailed()),
    (ScopeEscalation, lambda exc: InsufficientScope(exc.missing, str(exc))),
    ((exceptions.PermissionDenied, django_exceptions.PermissionDenied), _forbidden),
    ((exceptions.NotFound, Http404), lambda exc: NotFound()),
    (exceptions.MethodNotAllowed, lambda exc: MethodNotAllowed(str(exc.detail))),
    (exceptions.UnsupportedMediaType, lambda exc: UnsupportedMediaType(f"{exc.detail} Send application/json.")),
    (exceptions.NotAcceptable, lambda exc: NotAcceptable(str(exc.detail))),
    (django_exceptions.RequestDataTooBig, lambda exc: PayloadTooLarge()),
    (exceptions.Throttled, lambda exc: RateLimited(exc.wait or 1, str(exc.detail))),
    ((OperationalError, InterfaceError), _database_unavailable),
]


def as_api_error(exc: Exception) -> ApiError | None:
    """``exc`` in the contract's terms, or None when it is not an error the API knows (a bug: 500)."""
    if isinstance(exc, ApiError):
        return exc
    for kinds, translate in TRANSLATIONS:
        if isinstance(exc, kinds):
            return translate(exc)
    if isinstance(exc, exceptions.APIException):
        error = ApiError(exc.detail)
        error.status_code, error.default_code = exc.status_code, str(exc.default_code).upper()
        return error
    return None


def render(error: ApiError) -> JsonResponse:
    response = error_response(error.status_code, str(error.default_code), str(error.detail), **error.extra())
    for name, value in error.headers().items():
        response[name] = value
    return response


def render_exception(exc: Exception) -> JsonResponse | None:
    """The envelope for ``exc``, or None when it is not an error the API knows (a bug: 500)."""
    error = as_api_error(exc)
    return render(error) if error is not None else None


def exception_handler(exc: Exception, context: dict[str, Any]) -> JsonResponse | None:
    """DRF's EXCEPTION_HANDLER. Unknown exceptions fall through to ``ApiErrorMiddleware`` (500)."""
    return render_exception(exc)
