"""The audit log over HTTP."""

from __future__ import annotations

from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from audit.models import AuditEvent
from audit.selectors import organization_audit_events
from portal.api.base import PortalAPIView
from portal.api.fields import iso


class AuditEventOutput(serializers.Serializer):
    def to_representation(self, event: AuditEvent) -> dict:
        if event.actor_credential_type:
            actor = {"type": event.actor_credential_type, "id": event.actor_credential_id, "label": event.actor_label}
        elif event.actor_user_id:
            actor = {"type": "user", "id": event.actor_user_id, "label": event.actor_label}
        else:
            actor = {"type": "system", "id": None, "label": event.actor_label}
        return {
            "id": event.pk,
            "action": event.action,
            "actor": actor,
            "target": {"type": event.target_type or None, "id": event.target_id or None,
                       "label": event.target_label or None},
            "metadata": event.metadata,
            "ipAddress": event.ip_address,
            "createdAt": iso(event.created_at),
        }


class AuditFilters(serializers.Serializer):
    action = serializers.CharField(max_length=64, required=False)
    since = serializers.DateTimeField(required=False)
    cursor = serializers.CharField(required=False)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=100)


class AuditEventListView(PortalAPIView):
    required_scopes = {"GET": ["audit:read"]}

    def get(self, request: Request) -> Response:
        filters = AuditFilters(data=request.query_params)
        filters.is_valid(raise_exception=True)
        events = organization_audit_events(
            self.caller.organization,
            action=filters.validated_data.get("action"),
            since=filters.validated_data.get("since"),
        )
        return self.paginate(events, AuditEventOutput, request)
