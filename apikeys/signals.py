"""A changed or deleted API key stops being served from the shared credential cache (``portal.requestpath``)."""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from apikeys.models import ApiKey
from portal import requestpath


@receiver(post_save, sender=ApiKey)
@receiver(post_delete, sender=ApiKey)
def api_key_changed(sender, instance: ApiKey, created: bool = False, **kwargs) -> None:
    if not created:  # a new key cannot be cached yet
        requestpath.changed(requestpath.dependency("key", instance.public_id))
