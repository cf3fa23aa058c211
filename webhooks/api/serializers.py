"""The JSON shapes of webhook endpoints and deliveries (camelCase, as the contract writes them)."""

from __future__ import annotations

from rest_framework import serializers

from portal.api.base import StrictInputSerializer
from portal.api.fields import IsoDateTimeField
from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint


class WebhookEndpointOutput(serializers.Serializer):
    """An endpoint, without its secret."""

    id = serializers.IntegerField(source="pk")
    url = serializers.CharField()
    description = serializers.CharField()
    eventTypes = serializers.ListField(source="event_types", child=serializers.CharField())  # noqa: N815
    enabled = serializers.BooleanField()
    disabledReason = serializers.CharField(source="disabled_reason", allow_blank=True,  # noqa: N815
                                           help_text="Why the portal disabled it (5 days of failures), if it did.")
    createdAt = IsoDateTimeField(source="created_at")  # noqa: N815
    updatedAt = IsoDateTimeField(source="updated_at")  # noqa: N815


class WebhookEndpointCreatedOutput(WebhookEndpointOutput):
    secret = serializers.CharField(help_text="The signing secret (whsec_...). Store it now: it is never shown again.")


class WebhookEndpointInput(StrictInputSerializer):
    url = serializers.CharField(max_length=2000)
    description = serializers.CharField(max_length=500, allow_blank=True, required=False, default="")
    eventTypes = serializers.ListField(child=serializers.CharField(max_length=64), required=False,  # noqa: N815
                                       max_length=50, default=["*"])
    enabled = serializers.BooleanField(required=False, default=True)


class WebhookEndpointPatchInput(StrictInputSerializer):
    url = serializers.CharField(max_length=2000, required=False)
    description = serializers.CharField(max_length=500, allow_blank=True, required=False)
    eventTypes = serializers.ListField(child=serializers.CharField(max_length=64), required=False,  # noqa: N815
                                       max_length=50)
    enabled = serializers.BooleanField(required=False)


class NoInput(StrictInputSerializer):
    """These operations take no field; an empty body or ``{}``."""


class WebhookAttemptOutput(serializers.Serializer):
    at = IsoDateTimeField()
    statusCode = serializers.IntegerField(source="status_code", allow_null=True)  # noqa: N815
    durationMs = serializers.IntegerField(source="duration_ms")  # noqa: N815
    error = serializers.SerializerMethodField()
    response = serializers.CharField(source="response_body", help_text="The first 1 KiB of the answer.")

    def get_error(self, attempt: WebhookAttempt) -> str | None:
        if attempt.error:
            return attempt.error
        return None if attempt.succeeded else f"HTTP {attempt.status_code}"


class WebhookDeliveryOutput(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    eventId = serializers.CharField(source="event.event_id", help_text="The webhook-id header.")  # noqa: N815
    eventType = serializers.CharField(source="event.type")  # noqa: N815
    status = serializers.ChoiceField(choices=WebhookDelivery.Status.values)
    attempts = WebhookAttemptOutput(many=True)
    nextAttemptAt = IsoDateTimeField(source="next_attempt_at", allow_null=True)  # noqa: N815
    createdAt = IsoDateTimeField(source="created_at")  # noqa: N815


def endpoint_data(endpoint: WebhookEndpoint) -> dict:
    return WebhookEndpointOutput(endpoint).data
