"""A saved or deleted resource server stops being served from the credential cache (``portal.credential_cache``):
every process reads it again at its next call, so a disabled server or a rotated secret is refused at once."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from gateway.models import ResourceServer
from gateway.selectors import CACHE_KIND
from portal.credential_cache import changed, dependency


@receiver(post_save, sender=ResourceServer)
@receiver(post_delete, sender=ResourceServer)
def resource_server_changed(sender: type, instance: ResourceServer, created: bool = False, **kwargs: Any) -> None:
    if not created:  # a new server cannot be cached yet
        changed(dependency(CACHE_KIND, instance.pk))
