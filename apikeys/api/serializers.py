"""The JSON shapes of API keys (camelCase, as the contract writes them)."""

from __future__ import annotations

from rest_framework import serializers

from apikeys.models import ApiKey, KeyStatus
from portal.api.base import StrictInputSerializer
from portal.api.fields import IsoDateTimeField, PresetNameField, ScopeNameField


class ApiKeyOutput(serializers.Serializer):
    """An API key, without its secret."""

    id = serializers.CharField(source="public_id")
    name = serializers.CharField()
    applicationId = serializers.IntegerField(source="application_id")  # noqa: N815 (the API's own field names)
    environment = serializers.ChoiceField(choices=ApiKey.Environment.values)
    prefix = serializers.CharField(source="masked", help_text="The key's public part, to recognize it.")
    scopes = serializers.ListField(child=serializers.CharField())
    status = serializers.ChoiceField(choices=KeyStatus.values)
    expiresAt = IsoDateTimeField(source="expires_at", allow_null=True)  # noqa: N815
    rateLimitPerMinute = serializers.IntegerField(source="rate_limit_per_minute", allow_null=True)  # noqa: N815
    allowedIps = serializers.ListField(source="allowed_ips", child=serializers.CharField())  # noqa: N815
    createdAt = IsoDateTimeField(source="created_at")  # noqa: N815
    createdBy = serializers.SerializerMethodField()  # noqa: N815
    lastUsedAt = IsoDateTimeField(source="last_used_at", allow_null=True)  # noqa: N815
    revokedAt = IsoDateTimeField(source="revoked_at", allow_null=True)  # noqa: N815
    rotatedAt = IsoDateTimeField(source="rotated_at", allow_null=True)  # noqa: N815
    replacedBy = serializers.SerializerMethodField(help_text="The id of the key that replaced it.")  # noqa: N815

    def get_createdBy(self, key: ApiKey) -> str | None:  # noqa: N802
        """The email of the person who made it, or what made it (a command, another key)."""
        return key.created_by.email if key.created_by else (key.created_by_label or None)

    def get_replacedBy(self, key: ApiKey) -> str | None:  # noqa: N802
        return key.replaced_by.public_id if key.replaced_by_id and key.replaced_by else None


class ApiKeyCreatedOutput(ApiKeyOutput):
    """A new API key, with the key itself: shown in this response only."""

    key = serializers.CharField(help_text="The whole key. Store it now: it is never shown again.")


class ApiKeyRotatedOutput(ApiKeyCreatedOutput):
    """The key that replaces a rotated one; the old key keeps working for the grace period."""

    rotatedKeyId = serializers.CharField(help_text="The id of the key that was rotated.")  # noqa: N815


class ApiKeyInput(StrictInputSerializer):
    name = serializers.CharField(max_length=120, allow_blank=False, trim_whitespace=True)
    applicationId = serializers.IntegerField(min_value=1)  # noqa: N815 (the API's own field name)
    scopePreset = PresetNameField(max_length=64, required=False, allow_null=True)  # noqa: N815
    scopes = serializers.ListField(child=ScopeNameField(max_length=64), required=False, max_length=100)
    expiresInDays = serializers.IntegerField(required=False, allow_null=True)  # noqa: N815
    environment = serializers.ChoiceField(choices=ApiKey.Environment.values, required=False, default="live")
    rateLimitPerMinute = serializers.IntegerField(required=False, allow_null=True)  # noqa: N815
    allowedIps = serializers.ListField(  # noqa: N815
        child=serializers.CharField(max_length=64), required=False, max_length=50
    )


class ApiKeyRotateInput(StrictInputSerializer):
    gracePeriodHours = serializers.IntegerField(  # noqa: N815
        required=False, allow_null=True,
        help_text="How long the old key keeps working, 0 to 168 hours; 24 when not given.",
    )
    name = serializers.CharField(
        max_length=120, allow_blank=False, trim_whitespace=True, required=False, allow_null=True,
        help_text="The new key's name, 1 to 120 characters; when not given, "
                  "`<name> (rotated YYYY-MM-DD)` after the old key's name without any earlier such suffix.",
    )
