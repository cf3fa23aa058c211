"""Reads of OAuth clients, always through the caller's organization."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import Http404

from accounts.models import Organization
from applications.models import Application
from oauthapps.models import OAuthClient


def organization_oauth_clients(organization: Organization, *, application: Application | None = None,
                               ) -> QuerySet[OAuthClient]:
    clients: QuerySet[OAuthClient] = OAuthClient.objects.filter(organization=organization).select_related(
        "application", "created_by")
    if application is not None:
        clients = clients.filter(application=application)
    return clients.order_by("-created", "-id")


def search_oauth_clients(organization: Organization, *, q: str = "", application: Application | None = None,
                         client_type: str | None = None) -> QuerySet[OAuthClient]:
    """The organization's clients that match a search (part of the name, or the whole client id) and filters."""
    clients = organization_oauth_clients(organization, application=application)
    if q:
        clients = clients.filter(Q(name__icontains=q) | Q(client_id=q))
    if client_type:
        clients = clients.filter(client_type=client_type)
    return clients


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
