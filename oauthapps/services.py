"""Writes to OAuth clients. Each one audits itself."""

from __future__ import annotations

from django.db import transaction

from audit.services import audit_record
from oauthapps.models import OAuthClient
from portal.callers import Caller


@transaction.atomic
def oauth_client_delete(*, caller: Caller, client: OAuthClient) -> None:
    """Delete a client; its tokens and grants go with it (database cascade)."""
    audit_record(action="oauth_client.deleted", actor=caller.audit_actor, organization=caller.organization,
                 target=client, metadata={"clientId": client.client_id})
    client.delete()


@transaction.atomic
def oauth_clients_delete_for_application(*, caller: Caller, application) -> None:
    for client in OAuthClient.objects.filter(application=application, organization=caller.organization):
        oauth_client_delete(caller=caller, client=client)
