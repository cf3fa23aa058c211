"""Changed or deleted access tokens and OAuth clients stop being served from the shared credential cache
(``portal.credential_cache``). DOT revokes a token by deleting it, so these receivers see every revocation,
whether it comes from the revocation endpoint, a refresh, a replayed code, the admin or a service."""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from oauth2_provider.models import AccessToken, Grant, get_access_token_model, get_application_model

from accounts.events import membership_ended
from applications.events import application_deleting
from portal.callers import Caller
from portal.credential_cache import changed, dependency


@receiver(post_save, sender=get_access_token_model())
@receiver(post_delete, sender=get_access_token_model())
def access_token_changed(sender, instance, created: bool = False, **kwargs) -> None:
    if not created and instance.token_checksum:
        changed(dependency("tok", instance.token_checksum))


@receiver(post_save, sender=get_application_model())
@receiver(post_delete, sender=get_application_model())
def oauth_client_changed(sender, instance, created: bool = False, **kwargs) -> None:
    if not created:
        changed(dependency("client", instance.pk))


@receiver(membership_ended)
def revoke_tokens_of_a_former_member(sender, organization, user, actor, revoke_credentials: bool, **kwargs) -> dict:
    """Every OAuth token acting as the former member for the organization is revoked at once (with its refresh
    token), and pending authorization codes go; the clients they made only when the remover asks for it."""
    from oauthapps.models import OAuthClient
    from oauthapps.services.clients import oauth_client_delete
    from oauthapps.services.tokens import oauth_access_tokens_revoke

    tokens = AccessToken.objects.filter(user=user, binding__organization=organization)
    caller = Caller.system(organization, actor=actor)
    revoked_tokens, revoked_refresh = oauth_access_tokens_revoke(caller=caller, tokens=tokens)
    Grant.objects.filter(user=user, binding__organization=organization).delete()
    counts = {"oauthTokens": revoked_tokens + revoked_refresh}
    if revoke_credentials:
        clients = list(OAuthClient.objects.filter(organization=organization, created_by=user))
        for client in clients:
            oauth_client_delete(caller=caller, client=client)
        counts["oauthClients"] = len(clients)
    return counts


@receiver(application_deleting)
def delete_clients_of_a_deleted_application(sender, caller: Caller, application, **kwargs) -> None:
    """Deleting an application deletes its OAuth clients (each audited, their tokens with them) before it goes."""
    from oauthapps.services.clients import oauth_clients_delete_for_application

    oauth_clients_delete_for_application(caller=caller, application=application)
