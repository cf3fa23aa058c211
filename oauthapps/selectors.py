"""Reads of OAuth clients, always through the caller's organization."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from accounts.models import Organization
from oauthapps.models import OAuthClient


def organization_oauth_clients(organization: Organization, *, application=None) -> QuerySet[OAuthClient]:
    clients = OAuthClient.objects.filter(organization=organization).select_related("application")
    if application is not None:
        clients = clients.filter(application=application)
    return clients.order_by("-created", "-id")


def access_oauth_client_by_id(organization: Organization, client_pk: object) -> OAuthClient:
    """The organization's client ``client_pk``; missing or foreign is the same 404."""
    try:
        pk = int(str(client_pk))
    except (TypeError, ValueError):
        raise Http404("No such OAuth client.") from None
    client = organization_oauth_clients(organization).filter(pk=pk).first()
    if client is None:
        raise Http404("No such OAuth client.")
    return client
