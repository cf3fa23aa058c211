"""The JSON shapes of applications and API keys (camelCase, as the contract writes them)."""

from __future__ import annotations

from rest_framework import serializers

from apikeys.models import ApiKey, Application
from portal.api.base import StrictInputSerializer
from portal.api.fields import iso


class ApplicationOutput(serializers.Serializer):
    def to_representation(self, app: Application) -> dict:
        return {
            "id": app.pk,
            "name": app.name,
            "description": app.description,
            "createdAt": iso(app.created_at),
            "updatedAt": iso(app.updated_at),
        }


class ApplicationInput(StrictInputSerializer):
    name = serializers.CharField(max_length=120, allow_blank=False, trim_whitespace=True)
    description = serializers.CharField(max_length=2000, allow_blank=True, required=False, default="")


class ApplicationPatchInput(StrictInputSerializer):
    name = serializers.CharField(max_length=120, allow_blank=False, trim_whitespace=True, required=False)
    description = serializers.CharField(max_length=2000, allow_blank=True, required=False)


class ApiKeyOutput(serializers.Serializer):
    def to_representation(self, key: ApiKey) -> dict:
        return {
            "id": key.public_id,
            "name": key.name,
            "applicationId": key.application_id,
            "environment": key.environment,
            "prefix": key.masked,
            "scopes": key.scopes,
            "status": key.status,
            "expiresAt": iso(key.expires_at),
            "rateLimitPerMinute": key.rate_limit_per_minute,
            "allowedIps": key.allowed_ips,
            "createdAt": iso(key.created_at),
            "createdBy": key.created_by.email if key.created_by else (key.created_by_label or None),
            "lastUsedAt": iso(key.last_used_at),
            "revokedAt": iso(key.revoked_at),
            "rotatedAt": iso(key.rotated_at),
            "replacedBy": key.replaced_by.public_id if key.replaced_by_id and key.replaced_by else None,
        }


class ApiKeyInput(StrictInputSerializer):
    name = serializers.CharField(max_length=120, allow_blank=False, trim_whitespace=True)
    applicationId = serializers.IntegerField(min_value=1)  # noqa: N815 (the API's own field name)
    scopePreset = serializers.CharField(max_length=64, required=False, allow_null=True)  # noqa: N815
    scopes = serializers.ListField(child=serializers.CharField(max_length=64), required=False, max_length=100)
    expiresInDays = serializers.IntegerField(required=False, allow_null=True)  # noqa: N815
    environment = serializers.ChoiceField(choices=ApiKey.Environment.values, required=False, default="live")
    rateLimitPerMinute = serializers.IntegerField(required=False, allow_null=True)  # noqa: N815
    allowedIps = serializers.ListField(  # noqa: N815
        child=serializers.CharField(max_length=64), required=False, max_length=50
    )


class RotateInput(StrictInputSerializer):
    gracePeriodHours = serializers.IntegerField(required=False, allow_null=True)  # noqa: N815
