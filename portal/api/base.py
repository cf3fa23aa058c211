"""What every API view shares: the caller, strict JSON input, and no caching of secrets."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from portal.callers import Caller


class StrictInputSerializer(serializers.Serializer):
    """Refuses fields it does not know, so a typo (``scope`` for ``scopes``) is an error, not a silent default."""

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, dict):
            raise serializers.ValidationError({"body": ["Send a JSON object."]})
        unknown = sorted(set(data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
        return super().to_internal_value(data)


class PortalAPIView(APIView):
    """Authentication, scope checks, errors and rate limits come from ``REST_FRAMEWORK`` settings."""

    required_scopes: list[str] | dict[str, list[str]] = []
    pagination_class = api_settings.DEFAULT_PAGINATION_CLASS

    @property
    def caller(self) -> Caller:
        return self.request.auth

    def validated(self, serializer_class: type[serializers.Serializer], request: Request, **kwargs: Any) -> dict:
        serializer = serializer_class(data=request.data, **kwargs)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def paginate(self, queryset, serializer_class, request: Request):
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(queryset, request, view=self)
        return paginator.get_paginated_response(serializer_class(page, many=True).data)


def show_once(response):
    """Responses that carry a secret must never be stored by a browser or proxy."""
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"
    return response
