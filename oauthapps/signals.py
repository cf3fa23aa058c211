"""Changed or deleted access tokens and OAuth clients stop being served from the shared credential cache
(``portal.requestpath``). DOT revokes a token by deleting it, so these receivers see every revocation,
whether it comes from the revocation endpoint, a refresh, a replayed code, the admin or a service."""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from oauth2_provider.models import get_access_token_model, get_application_model

from portal import requestpath


@receiver(post_save, sender=get_access_token_model())
@receiver(post_delete, sender=get_access_token_model())
def access_token_changed(sender, instance, created: bool = False, **kwargs) -> None:
    if not created and instance.token_checksum:
        requestpath.changed(requestpath.dependency("tok", instance.token_checksum))


@receiver(post_save, sender=get_application_model())
@receiver(post_delete, sender=get_application_model())
def oauth_client_changed(sender, instance, created: bool = False, **kwargs) -> None:
    if not created:
        requestpath.changed(requestpath.dependency("client", instance.pk))
