"""What every API view shares: the caller, strict JSON input, and no caching of secrets."""

from __future__ import annotations

from typing import Any, TypeVar

from django.db.models import QuerySet
from django.http.response import HttpResponseBase
from rest_framework import exceptions, serializers
from rest_framework.pagination import BasePagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from portal.api.errors import RateLimited
from portal.api_counters import api_usage
from portal.callers import Caller
from portal.ratelimit import RateWindow

ResponseT = TypeVar("ResponseT", bound=HttpResponseBase)


class StrictInputSerializer(serializers.Serializer[Any]):
    """Refuses fields it does not know, so a typo (``scope`` for ``scopes``) is an error, not a silent default."""

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, dict):
            raise serializers.ValidationError({"body": ["Send a JSON object."]})
        unknown = sorted(set(data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
        return super().to_internal_value(data)


class PortalAPIView(APIView):
    """Every API view: authentication, scope checks and errors from ``REST_FRAMEWORK`` settings, and the rate
    limit, counted here once for every endpoint (``portal.api_counters``)."""

    required_scopes: list[str] | dict[str, list[str]] = []
    # api_settings imports its dotted paths (IMPORT_STRINGS) and hands out the class; the stubs type the setting
    # as the string it was written as.
    pagination_class: type[BasePagination] = api_settings.DEFAULT_PAGINATION_CLASS  # type: ignore[assignment]

    def perform_authentication(self, request: Request) -> None:
        super().perform_authentication(request)
        caller = request.auth if isinstance(request.auth, Caller) else None
        usage = self._count(request, caller)
        if usage is not None and usage.exceeded:  # portal.events.observe_rate_limited sees the 429 it becomes
            raise RateLimited(retry_after=usage.retry_after)

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed) \
                and not hasattr(self.request, "portal_ratelimit"):
            # A refused credential still counts, per client IP: guessing keys is not free either.
            usage = self._count(self.request, None)
            if usage is not None and usage.exceeded:
                exc = RateLimited(retry_after=usage.retry_after)
        return super().handle_exception(exc)

    def finalize_response(self, request: Request, response: Response, *args: Any, **kwargs: Any) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)
        usage = getattr(request, "portal_ratelimit", None)
        if usage is not None:
            for name, value in usage.headers().items():
                response[name] = value
            if usage.exceeded:
                response["Retry-After"] = str(usage.retry_after)
        return response

    @staticmethod
    def _count(request: Request, caller: Caller | None) -> RateWindow | None:
        usage = api_usage(request, caller)
        setattr(request, "portal_ratelimit", usage)  # noqa: B010 (Request declares no such attribute)
        return usage

    @property
    def caller(self) -> Caller:
        auth = self.request.auth
        if not isinstance(auth, Caller):  # HasRequiredScopes lets no other request through; fail closed all the same
            raise exceptions.NotAuthenticated()
        return auth

    def validated(self, serializer_class: type[serializers.Serializer[Any]], request: Request,
                  **kwargs: Any) -> dict[str, Any]:
        serializer = serializer_class(data=request.data, **kwargs)
        serializer.is_valid(raise_exception=True)
        data: dict[str, Any] = serializer.validated_data
        return data

    def paginate(self, queryset: QuerySet[Any], serializer_class: type[serializers.BaseSerializer[Any]],
                 request: Request) -> Response:
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(queryset, request, view=self)
        return paginator.get_paginated_response(serializer_class(page, many=True).data)


def show_once(response: ResponseT) -> ResponseT:
    """Responses that carry a secret must never be stored by a browser or proxy."""
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"
    return response
