"""Usage counts and the request log over HTTP."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import Organization
from apikeys.selectors import access_api_key_by_id
from applications.selectors import access_application_by_id
from oauthapps.selectors import access_oauth_client_by_id
from portal.api.base import PortalAPIView
from portal.api.fields import IsoDateTimeField, iso
from usage import selectors
from usage.models import Granularity, RequestLog


class CredentialFilters(serializers.Serializer):
    apiKeyId = serializers.CharField(required=False, max_length=64,  # noqa: N815 (the API's own names)
                                     help_text="Only this API key (its `id`).")
    oauthClientId = serializers.IntegerField(required=False,  # noqa: N815
                                             help_text="Only this OAuth client (its `id`).")

    def credentials(self, organization: Organization) -> dict[str, Any]:
        """The filters' objects, each found in ``organization`` only: an id of anything else is a 400 (an id in a
        filter, not in the path)."""
        data, found = self.validated_data, {}
        lookups = (("apiKeyId", "api_key", access_api_key_by_id), ("oauthClientId", "oauth_client",
                   access_oauth_client_by_id), ("applicationId", "application", access_application_by_id))
        for field, name, access in lookups:
            if field in data:
                try:
                    found[name] = access(organization, data[field])
                except Http404:
                    raise ValidationError({field: ["No such object in this organization."]}) from None
        return found


class UsageQuery(CredentialFilters):
    """The query of ``GET /api/v1/usage``. ``from`` and ``to`` are rounded out to whole buckets."""

    applicationId = serializers.IntegerField(required=False,  # noqa: N815
                                             help_text="Only the keys and clients of this application.")
    granularity = serializers.ChoiceField(choices=Granularity.values, default=Granularity.HOUR,
                                          help_text="Bucket size. Minutes are kept 48 hours, hours 90 days, days "
                                                    "2 years; a longer range is a 400.")
    start = serializers.DateTimeField(required=False, help_text="Start, inclusive (ISO 8601). Default: `to` "
                                                                "minus 1 hour, 24 hours or 30 days.")
    to = serializers.DateTimeField(required=False, help_text="End, exclusive (ISO 8601). Default: the end of the "
                                                             "current bucket.")

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        fields["from"] = fields.pop("start")  # a Python keyword, so declared under another name
        return fields


class UsageBucketOutput(serializers.Serializer):
    start = IsoDateTimeField()
    requests = serializers.IntegerField()
    success = serializers.IntegerField(help_text="2xx and 3xx.")
    clientErrors = serializers.IntegerField(source="client_errors", help_text="4xx but 429.")  # noqa: N815
    rateLimited = serializers.IntegerField(source="rate_limited", help_text="429.")  # noqa: N815
    serverErrors = serializers.IntegerField(source="server_errors", help_text="5xx.")  # noqa: N815


class UsageOutput(serializers.Serializer):
    granularity = serializers.ChoiceField(choices=Granularity.values)
    start = IsoDateTimeField()
    to = IsoDateTimeField()
    results = UsageBucketOutput(many=True)

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        fields["from"] = fields.pop("start")
        return fields


class UsageView(PortalAPIView):
    """Requests a bucket by outcome, for the organization or one key, OAuth client or application; buckets
    without requests are zeros."""

    required_scopes = {"GET": ["usage:read"]}

    @extend_schema(summary="Usage counts", parameters=[UsageQuery], responses={200: UsageOutput})
    def get(self, request: Request) -> Response:
        query = UsageQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        organization = self.caller.organization
        credentials = query.credentials(organization)
        granularity = query.validated_data["granularity"]
        try:
            start, end = selectors.usage_range(granularity, query.validated_data.get("from"),
                                               query.validated_data.get("to"))
        except ValueError as error:
            raise ValidationError({"from": [str(error)]}) from None
        buckets = selectors.usage_buckets(organization, granularity=granularity, start=start, end=end,
                                          **credentials)
        return Response({"granularity": granularity, "from": iso(start), "to": iso(end),
                         "results": UsageBucketOutput(buckets, many=True).data})


class RequestLogFilters(CredentialFilters):
    """The query of ``GET /api/v1/request-logs``."""

    status = serializers.CharField(required=False, max_length=3,
                                   help_text="Only this status (`429`) or class (`4xx`).")
    since = serializers.DateTimeField(required=False, help_text="Only requests at or after this time (ISO 8601).")
    cursor = serializers.CharField(required=False, help_text="The `next` or `previous` link's cursor.")
    limit = serializers.IntegerField(required=False, min_value=1, max_value=100, help_text="Requests a page (50).")

    def validate_status(self, value: str):
        try:
            return selectors.status_filter(value)
        except ValueError as error:
            raise serializers.ValidationError(str(error)) from None


class RequestLogOutput(serializers.Serializer):
    id = serializers.CharField(source="request_id", help_text="The request's `X-Request-Id`.")
    createdAt = IsoDateTimeField(source="created_at")  # noqa: N815
    method = serializers.CharField()
    path = serializers.CharField(help_text="Without the query string.")
    status = serializers.IntegerField()
    durationMs = serializers.FloatField(source="duration_ms")  # noqa: N815
    ipAddress = serializers.CharField(source="ip_address", allow_null=True)  # noqa: N815
    userAgent = serializers.CharField(source="user_agent")  # noqa: N815
    apiKeyId = serializers.SerializerMethodField()  # noqa: N815
    oauthClientId = serializers.IntegerField(source="oauth_client_id", allow_null=True)  # noqa: N815
    resourceServer = serializers.CharField(  # noqa: N815
        source="resource_server", allow_null=True,
        help_text="The resource server whose gateway asked (`/gateway/auth`); null for the portal's own API.")

    def get_apiKeyId(self, entry: RequestLog) -> str | None:  # noqa: N802
        return entry.api_key.public_id if entry.api_key is not None else None


class RequestLogListView(PortalAPIView):
    """Each request made with a key or OAuth token in the last 7 days, newest first."""

    required_scopes = {"GET": ["usage:read"]}

    @extend_schema(summary="List logged requests, newest first", parameters=[RequestLogFilters],
                   responses={200: RequestLogOutput(many=True)})
    def get(self, request: Request) -> Response:
        filters = RequestLogFilters(data=request.query_params)
        filters.is_valid(raise_exception=True)
        organization = self.caller.organization
        logs = selectors.organization_request_logs(
            organization, **filters.credentials(organization), status=filters.validated_data.get("status"),
            since=filters.validated_data.get("since"))
        return self.paginate(logs, RequestLogOutput, request)
