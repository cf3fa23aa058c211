"""The JSON shapes of applications (camelCase, as the contract writes them)."""

from __future__ import annotations

from rest_framework import serializers

from portal.api.base import StrictInputSerializer
from portal.api.fields import IsoDateTimeField


class ApplicationOutput(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    name = serializers.CharField()
    description = serializers.CharField()
    createdAt = IsoDateTimeField(source="created_at")  # noqa: N815 (the API's own field names)
    updatedAt = IsoDateTimeField(source="updated_at")  # noqa: N815


class ApplicationInput(StrictInputSerializer):
    name = serializers.CharField(max_length=120, allow_blank=False, trim_whitespace=True)
    description = serializers.CharField(max_length=2000, allow_blank=True, required=False, default="")


class ApplicationPatchInput(StrictInputSerializer):
    name = serializers.CharField(max_length=120, allow_blank=False, trim_whitespace=True, required=False)
    description = serializers.CharField(max_length=2000, allow_blank=True, required=False)
