"""The audit log over HTTP."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from audit.models import AuditEvent
from audit.selectors import organization_audit_events
from portal.api.base import PortalAPIView
from portal.api.fields import IsoDateTimeField


@extend_schema_field({"oneOf": [{"type": "integer"}, {"type": "string"}], "nullable": True})
class ActorIdField(serializers.Field):
    """A user's number, a credential's id (text), or null for the system."""

    def to_representation(self, value: int | str | None) -> int | str | None:
        return value


class AuditActorOutput(serializers.Serializer):
    type = serializers.CharField(help_text="`user`, `system`, or the kind of credential (`api_key`, `oauth_client`).")
    id = ActorIdField(allow_null=True)
    # DRF's metaclass takes declared fields out of the class; the stubs still see Field.label (a str) here.
    label = serializers.CharField()  # type: ignore[assignment]


class AuditTargetOutput(serializers.Serializer):
    type = serializers.CharField(allow_null=True)
    id = serializers.CharField(allow_null=True)
    label = serializers.CharField(allow_null=True)  # type: ignore[assignment]  # the same stub gap


class AuditEventOutput(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    action = serializers.CharField()
    actor = serializers.SerializerMethodField()
    target = serializers.SerializerMethodField()
    metadata = serializers.DictField(help_text="Details of the change; never a secret.")
    ipAddress = serializers.CharField(source="ip_address", allow_null=True)  # noqa: N815 (the API's own names)
    createdAt = IsoDateTimeField(source="created_at")  # noqa: N815

    @extend_schema_field(AuditActorOutput)
    def get_actor(self, event: AuditEvent) -> dict:
        kind = event.actor_type
        identifier = event.actor_user_id if kind == "user" else event.actor_id or None  # a person's id is a number
        return {"type": kind, "id": identifier, "label": event.actor_label}

    @extend_schema_field(AuditTargetOutput)
    def get_target(self, event: AuditEvent) -> dict:
        return {"type": event.target_type or None, "id": event.target_id or None, "label": event.target_label or None}


class AuditFilters(serializers.Serializer):
    """The query of ``GET /api/v1/audit-events``."""

    action = serializers.CharField(max_length=64, required=False, help_text="Only this action, e.g. `api_key.created`.")
    since = serializers.DateTimeField(required=False, help_text="Only events at or after this time (ISO 8601).")
    cursor = serializers.CharField(required=False, help_text="The `next` or `previous` link's cursor.")
    limit = serializers.IntegerField(required=False, min_value=1, max_value=100, help_text="Events a page (50).")


class AuditEventListView(PortalAPIView):
    required_scopes = {"GET": ["audit:read"]}

    @extend_schema(summary="List audit events, newest first", parameters=[AuditFilters],
                   responses={200: AuditEventOutput(many=True)})
    def get(self, request: Request) -> Response:
        filters = AuditFilters(data=request.query_params)
        filters.is_valid(raise_exception=True)
        events = organization_audit_events(
            self.caller.organization,
            action=filters.validated_data.get("action"),
            since=filters.validated_data.get("since"),
        )
        return self.paginate(events, AuditEventOutput, request)
