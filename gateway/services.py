"""Every change to a resource server, audited in the same transaction. Each create or rotation returns the secret
once; only its keyed hash is stored."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from audit.services import audit_record
from gateway import credentials
from gateway.models import ResourceServer
from portal import scopes as scope_registry


def _served_scopes(scopes: Iterable[str]) -> list[str]:
    """Registry scopes (a site's own among them), in registry order; at least one."""
    try:
        served = scope_registry.normalize(scopes)
    except scope_registry.ScopeError as error:
        raise ValidationError({"scopes": [str(error)]}) from None
    if not served:
        raise ValidationError({"scopes": ["Name at least one scope the service serves."]})
    return served


@transaction.atomic
def resource_server_create(*, name: str, scopes: Iterable[str], actor: Any) -> tuple[ResourceServer, str]:
    """A new enabled resource server and its secret (returned once)."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ValidationError({"name": ["Give a name of 1 to 100 characters."]})
    if ResourceServer.objects.filter(name=name).exists():
        raise ValidationError({"name": [f"A resource server named {name!r} already exists."]})
    served = _served_scopes(scopes)
    secret = credentials.new_secret()
    server = ResourceServer.objects.create(name=name, client_id=credentials.new_client_id(),
                                           secret_hash=credentials.hash_secret(secret), scopes=served)
    audit_record(action="resource_server.created", actor=actor, target=server,
                 metadata={"clientId": server.client_id, "scopes": served})
    return server, secret


@transaction.atomic
def resource_server_rotate_secret(*, server: ResourceServer, actor: Any) -> tuple[ResourceServer, str]:
    """A new secret (returned once); the old one stops working at once."""
    secret = credentials.new_secret()
    server.secret_hash = credentials.hash_secret(secret)
    server.secret_rotated_at = timezone.now()
    server.save(update_fields=["secret_hash", "secret_rotated_at"])
    audit_record(action="resource_server.secret_rotated", actor=actor, target=server,
                 metadata={"clientId": server.client_id})
    return server, secret


@transaction.atomic
def resource_server_disable(*, server: ResourceServer, actor: Any) -> ResourceServer:
    """A disabled server is refused at ``/gateway/auth`` and ``/oauth/introspect/`` until enabled again."""
    if server.enabled:
        server.enabled, server.disabled_at = False, timezone.now()
        server.save(update_fields=["enabled", "disabled_at"])
        audit_record(action="resource_server.disabled", actor=actor, target=server,
                     metadata={"clientId": server.client_id})
    return server


@transaction.atomic
def resource_server_enable(*, server: ResourceServer, actor: Any) -> ResourceServer:
    if not server.enabled:
        server.enabled, server.disabled_at = True, None
        server.save(update_fields=["enabled", "disabled_at"])
        audit_record(action="resource_server.enabled", actor=actor, target=server,
                     metadata={"clientId": server.client_id})
    return server


@transaction.atomic
def resource_server_set_scopes(*, server: ResourceServer, scopes: Iterable[str], actor: Any) -> ResourceServer:
    served = _served_scopes(scopes)
    if served != server.scopes:
        before, server.scopes = server.scopes, served
        server.save(update_fields=["scopes"])
        audit_record(action="resource_server.updated", actor=actor, target=server,
                     metadata={"clientId": server.client_id, "before": {"scopes": before},
                               "after": {"scopes": served}})
    return server
