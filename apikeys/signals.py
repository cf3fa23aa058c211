"""A changed or deleted API key stops being served from the shared credential cache (``portal.credential_cache``);
the keys of a former member are revoked when the remover asks for it, and those of a deleted application always."""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from accounts.events import membership_ended
from apikeys.models import ApiKey
from applications.events import application_deleting
from portal.callers import Caller
from portal.credential_cache import changed, dependency


@receiver(post_save, sender=ApiKey)
@receiver(post_delete, sender=ApiKey)
def api_key_changed(sender, instance: ApiKey, created: bool = False, **kwargs) -> None:
    if not created:  # a new key cannot be cached yet
        changed(dependency("key", instance.public_id))


@receiver(membership_ended)
def revoke_keys_of_a_former_member(sender, organization, user, actor, revoke_credentials: bool, **kwargs) -> dict:
    """The keys a former member made keep working (they belong to the organization), unless the person who
    removed them chose to revoke them in the same step (contract section 2)."""
    if not revoke_credentials:
        return {}
    from apikeys.services import api_key_revoke

    caller = Caller.system(organization, actor=actor)
    keys = ApiKey.objects.filter(organization=organization, created_by=user, revoked_at__isnull=True)
    revoked = [api_key_revoke(caller=caller, key=key, reason="member removed") for key in keys]
    return {"apiKeys": len(revoked)}


@receiver(application_deleting)
def revoke_keys_of_a_deleted_application(sender, caller: Caller, application, **kwargs) -> None:
    """Deleting an application revokes its live keys first (each audited), so none of them keeps working."""
    from apikeys.services import api_keys_revoke_for_application

    api_keys_revoke_for_application(caller=caller, application=application, reason="application deleted")
