"""Webhook endpoints and their deliveries over HTTP (section 5 and 13). Thin: validate, call a service, render."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response

from portal.api.base import PortalAPIView, show_once
from webhooks import selectors, services
from webhooks.api.serializers import (
    NoInput,
    WebhookDeliveryOutput,
    WebhookEndpointCreatedOutput,
    WebhookEndpointInput,
    WebhookEndpointOutput,
    WebhookEndpointPatchInput,
)
from webhooks.models import WebhookEndpoint

READ, WRITE = ["webhooks:read"], ["webhooks:write"]


class WebhooksAPIView(PortalAPIView):
    @property
    def organization_id(self) -> int:
        """The caller's organization: every API credential (a key, a client's token) belongs to one."""
        organization_id = self.caller.organization_id
        if organization_id is None:  # no API credential acts outside an organization; fail closed all the same
            raise exceptions.NotAuthenticated()
        return organization_id


class WebhookEndpointListView(WebhooksAPIView):
    required_scopes = {"GET": READ, "POST": WRITE}

    @extend_schema(summary="List webhook endpoints", responses={200: WebhookEndpointOutput(many=True)})
    def get(self, request: Request) -> Response:
        return self.paginate(selectors.organization_endpoints(self.organization_id), WebhookEndpointOutput,
                             request)

    @extend_schema(summary="Register a webhook endpoint", request=WebhookEndpointInput,
                   responses={201: WebhookEndpointCreatedOutput})
    def post(self, request: Request) -> Response:
        data = self.validated(WebhookEndpointInput, request)
        endpoint, secret = services.webhook_endpoint_create(
            caller=self.caller, url=data["url"], description=data["description"], event_types=data["eventTypes"],
            enabled=data["enabled"],
        )
        body = {**WebhookEndpointOutput(endpoint).data, "secret": secret}
        return show_once(Response(body, status=status.HTTP_201_CREATED))


class WebhookEndpointDetailView(WebhooksAPIView):
    required_scopes = {"GET": READ, "PATCH": WRITE, "DELETE": WRITE}

    def get_endpoint(self, endpoint_id: int) -> WebhookEndpoint:
        return selectors.access_endpoint_by_id(self.organization_id, endpoint_id)

    @extend_schema(summary="Get a webhook endpoint", responses={200: WebhookEndpointOutput})
    def get(self, request: Request, endpoint_id: int) -> Response:
        return Response(WebhookEndpointOutput(self.get_endpoint(endpoint_id)).data)

    @extend_schema(summary="Change a webhook endpoint", request=WebhookEndpointPatchInput,
                   responses={200: WebhookEndpointOutput})
    def patch(self, request: Request, endpoint_id: int) -> Response:
        endpoint = self.get_endpoint(endpoint_id)
        data = self.validated(WebhookEndpointPatchInput, request)
        endpoint = services.webhook_endpoint_update(
            caller=self.caller, endpoint=endpoint, url=data.get("url"), description=data.get("description"),
            event_types=data.get("eventTypes"), enabled=data.get("enabled"),
        )
        return Response(WebhookEndpointOutput(endpoint).data)

    @extend_schema(summary="Delete a webhook endpoint", responses={204: None})
    def delete(self, request: Request, endpoint_id: int) -> Response:
        services.webhook_endpoint_delete(caller=self.caller, endpoint=self.get_endpoint(endpoint_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookEndpointRotateSecretView(WebhooksAPIView):
    required_scopes = {"POST": WRITE}

    @extend_schema(summary="Rotate an endpoint's signing secret (the old one signs beside it for 24 hours)",
                   request=NoInput, responses={201: WebhookEndpointCreatedOutput})
    def post(self, request: Request, endpoint_id: int) -> Response:
        endpoint = selectors.access_endpoint_by_id(self.organization_id, endpoint_id)
        self.validated(NoInput, request)
        endpoint, secret = services.webhook_endpoint_rotate_secret(caller=self.caller, endpoint=endpoint)
        body = {**WebhookEndpointOutput(endpoint).data, "secret": secret}
        return show_once(Response(body, status=status.HTTP_201_CREATED))


class WebhookEndpointTestView(WebhooksAPIView):
    required_scopes = {"POST": WRITE}

    @extend_schema(summary="Send a webhook.test event to the endpoint", request=NoInput,
                   responses={202: WebhookDeliveryOutput})
    def post(self, request: Request, endpoint_id: int) -> Response:
        endpoint = selectors.access_endpoint_by_id(self.organization_id, endpoint_id)
        self.validated(NoInput, request)
        delivery = services.webhook_endpoint_send_test(caller=self.caller, endpoint=endpoint)
        delivery = selectors.access_delivery_by_id(endpoint, delivery.pk)
        return Response(WebhookDeliveryOutput(delivery).data, status=status.HTTP_202_ACCEPTED)


class WebhookDeliveryListView(WebhooksAPIView):
    required_scopes = {"GET": READ}

    @extend_schema(summary="List an endpoint's deliveries, newest first, with their attempts",
                   responses={200: WebhookDeliveryOutput(many=True)})
    def get(self, request: Request, endpoint_id: int) -> Response:
        endpoint = selectors.access_endpoint_by_id(self.organization_id, endpoint_id)
        return self.paginate(selectors.endpoint_deliveries(endpoint), WebhookDeliveryOutput, request)


class WebhookDeliveryRetryView(WebhooksAPIView):
    required_scopes = {"POST": WRITE}

    @extend_schema(summary="Send a delivery again (same webhook-id)", request=NoInput,
                   responses={202: WebhookDeliveryOutput})
    def post(self, request: Request, endpoint_id: int, delivery_id: int) -> Response:
        endpoint = selectors.access_endpoint_by_id(self.organization_id, endpoint_id)
        delivery = selectors.access_delivery_by_id(endpoint, delivery_id)
        self.validated(NoInput, request)
        services.webhook_delivery_retry(caller=self.caller, delivery=delivery)
        delivery = selectors.access_delivery_by_id(endpoint, delivery_id)
        return Response(WebhookDeliveryOutput(delivery).data, status=status.HTTP_202_ACCEPTED)
