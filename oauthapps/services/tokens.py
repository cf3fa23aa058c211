"""Revoking OAuth tokens: by a person for a client they authorised, by staff in the admin. Each one audits itself."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from oauth2_provider.models import AccessToken, RefreshToken

from audit.services import audit_record
from oauthapps.models import OAuthClient
from portal.callers import Caller


@transaction.atomic
def oauth_consent_revoke(*, caller: Caller, client: OAuthClient) -> int:
    """A person (``caller``, a ``Caller.for_person``) withdraws a client's access: every token the client holds
    for them goes."""
    user = caller.person
    refresh = RefreshToken.objects.filter(user=user, application=client, revoked__isnull=True)
    count: int = 0
    for token in refresh:
        token.revoke()
        count += 1
    count += AccessToken.objects.filter(user=user, application=client).delete()[0]
    audit_record(action="oauth_consent.revoked", actor=user, organization=client.organization, target=client,
                 metadata={"clientId": client.client_id, "tokens": count})
    return count


@transaction.atomic
def oauth_tokens_revoke(*, caller: Caller, tokens: QuerySet[Any]) -> int:
    """Revoke access or refresh tokens (staff's admin actions, a former member's, a leaked one); each revocation is
    audited, with ``caller``'s actor."""
    actor = caller.audit_actor
    count = 0
    for token in tokens.select_related("application", "application__organization"):
        client = token.application
        audit_record(action="oauth_token.revoked", actor=actor, organization=client.organization if client else None,
                     target=client, metadata={"clientId": client.client_id if client else None,
                                              "tokenId": token.pk, "kind": token._meta.model_name})
        token.revoke()
        count += 1
    return count


@transaction.atomic
def oauth_access_tokens_revoke(*, caller: Caller, tokens: QuerySet[Any]) -> tuple[int, int]:
    """Revoke access tokens and the live refresh tokens issued with them, as DOT's ``revoke_access_token``
    does: deleting an access token alone would leave its refresh token listed as live. Returns both counts."""
    refresh = RefreshToken.objects.filter(access_token__in=tokens, revoked__isnull=True)
    refresh_ids = list(refresh.values_list("pk", flat=True))
    revoked = oauth_tokens_revoke(caller=caller, tokens=tokens)
    oauth_tokens_revoke(caller=caller, tokens=RefreshToken.objects.filter(pk__in=refresh_ids))
    return revoked, len(refresh_ids)
