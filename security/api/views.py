"""The policy and scope usage over HTTP (contract section 19). Thin: shape, service or selector, render."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from apikeys.selectors import access_api_key_by_id
from policies.selectors import policy_for
from policies.services import credential_policy_update
from portal.api.base import PortalAPIView, StrictInputSerializer
from portal.api.errors import InvalidInput
from portal.api.fields import iso
from security.scope_usage import key_scope_usage
from security.selectors import policy_violations

POLICY_FIELDS = {
    "maxKeyLifetimeDays": "max_key_lifetime_days",
    "allowedScopes": "allowed_scopes",
    "liveKeysNeedIpRanges": "live_keys_need_ip_ranges",
    "revokeUnusedKeysAfterDays": "revoke_unused_keys_after_days",
}
READ_ONLY_FIELDS = {"violations"}

PolicyOutput = inline_serializer("CredentialPolicy", {
    "maxKeyLifetimeDays": serializers.IntegerField(allow_null=True, help_text="1 to 365, or null"),
    "allowedScopes": serializers.ListField(child=serializers.CharField()),
    "liveKeysNeedIpRanges": serializers.BooleanField(),
    "revokeUnusedKeysAfterDays": serializers.IntegerField(allow_null=True, help_text="30 to 365, or null"),
    "violations": serializers.ListField(child=serializers.DictField(), read_only=True),
})


class PolicyInput(StrictInputSerializer):
    """The PUT body, for the OpenAPI document (the view checks it itself: every field is required, and
    ``violations``, read-only, is ignored)."""

    maxKeyLifetimeDays = serializers.IntegerField(allow_null=True, min_value=1, max_value=365)  # noqa: N815
    allowedScopes = serializers.ListField(child=serializers.CharField(), allow_null=True)  # noqa: N815
    liveKeysNeedIpRanges = serializers.BooleanField()  # noqa: N815
    revokeUnusedKeysAfterDays = serializers.IntegerField(allow_null=True, min_value=30, max_value=365)  # noqa: N815
    violations = serializers.ListField(child=serializers.DictField(), required=False,
                                       help_text="Read-only: ignored in a PUT.")


def policy_body(organization, policy) -> dict:
    violations = [{name: value for name, value in item.items() if name != "object"}
                  for item in policy_violations(organization, policy)]
    return {**policy.as_api(), "violations": violations}


class OrganizationPolicyView(PortalAPIView):
    """GET and PUT the organization's credential policy. PUT takes all four fields; ``violations`` is read-only
    (ignored in a PUT)."""

    required_scopes = ["admin"]

    @extend_schema(summary="Get the organization's credential policy", responses={200: PolicyOutput})
    def get(self, request: Request) -> Response:
        organization = self.caller.organization  # an API caller always acts in one
        return Response(policy_body(organization, policy_for(organization.pk)))

    @extend_schema(summary="Set the organization's credential policy", request=PolicyInput,
                   responses={200: PolicyOutput},
                   examples=[OpenApiExample("A strict policy", request_only=True, value={
                       "maxKeyLifetimeDays": 90, "allowedScopes": ["apps:read", "keys:read"],
                       "liveKeysNeedIpRanges": True, "revokeUnusedKeysAfterDays": 60})])
    def put(self, request: Request) -> Response:
        data = request.data
        if not isinstance(data, dict):
            raise InvalidInput({"body": ["Send a JSON object."]})
        errors = {name: ["This field is required."] for name in POLICY_FIELDS if name not in data}
        errors.update({name: ["Unknown field."] for name in data if name not in POLICY_FIELDS
                       and name not in READ_ONLY_FIELDS})
        if errors:
            raise InvalidInput(errors)
        policy = credential_policy_update(caller=self.caller,
                                          **{field: data[name] for name, field in POLICY_FIELDS.items()})
        return Response(policy_body(self.caller.organization, policy))


ScopeUsageOutput = inline_serializer("ScopeUsage", {
    "scopes": serializers.ListField(child=inline_serializer("ScopeLastUsed", {
        "scope": serializers.CharField(),
        "lastUsedAt": serializers.CharField(allow_null=True, help_text="Within the last 90 days, else null"),
    })),
})


class ApiKeyScopeUsageView(PortalAPIView):
    """Each scope the key holds, with when a call last used it within 90 days (null: not in that time)."""

    required_scopes = {"GET": ["keys:read"]}

    @extend_schema(summary="When each of a key's scopes was last used", responses={200: ScopeUsageOutput})
    def get(self, request: Request, key_id: str) -> Response:
        key = access_api_key_by_id(self.caller.organization, key_id, include_revoked=False)
        return Response({"scopes": [{"scope": item["scope"], "lastUsedAt": iso(item["last_used_at"])}
                                    for item in key_scope_usage(key)]})
