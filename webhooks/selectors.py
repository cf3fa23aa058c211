"""Reads of webhook endpoints and deliveries, always through the caller's organization."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from django.http import Http404

from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint


def _pk(value: object) -> int | None:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


def organization_endpoints(organization_id: int) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.filter(organization_id=organization_id).order_by("-created_at", "-id")


def access_endpoint_by_id(organization_id: int, endpoint_id: object) -> WebhookEndpoint:
    """The organization's endpoint; a missing or foreign id is the same 404."""
    pk = _pk(endpoint_id)
    endpoint = None if pk is None else organization_endpoints(organization_id).filter(pk=pk).first()
    if endpoint is None:
        raise Http404("No such webhook endpoint.")
    return endpoint


def endpoint_deliveries(endpoint: WebhookEndpoint) -> QuerySet[WebhookDelivery]:
    return (
        WebhookDelivery.objects.filter(endpoint=endpoint)
        .select_related("event", "endpoint")
        .prefetch_related(Prefetch("attempts", queryset=WebhookAttempt.objects.order_by("at", "id")))
        .order_by("-created_at", "-id")
    )


def access_delivery_by_id(endpoint: WebhookEndpoint, delivery_id: object) -> WebhookDelivery:
    pk = _pk(delivery_id)
    delivery = None if pk is None else endpoint_deliveries(endpoint).filter(pk=pk).first()
    if delivery is None:
        raise Http404("No such delivery.")
    return delivery
