"""DOT's scopes backend over the portal's registry: a client's allowed scopes are its ceiling."""

from __future__ import annotations

from oauth2_provider.scopes import BaseScopes

from portal import scopes as scope_registry


def client_ceiling(client) -> list[str]:
    """Every scope a token of ``client`` may hold (``admin`` in the list allows them all)."""
    allowed = list(client.allowed_scopes or [])
    if scope_registry.ADMIN_SCOPE in allowed:
        return list(scope_registry.registry())
    return allowed


class PortalScopes(BaseScopes):
    def get_all_scopes(self) -> dict[str, str]:
        return scope_registry.registry()

    def get_available_scopes(self, application=None, request=None, *args, **kwargs) -> list[str]:
        if application is None:
            return list(scope_registry.registry())
        return client_ceiling(application)

    def get_default_scopes(self, application=None, request=None, *args, **kwargs) -> list[str]:
        if application is None:
            return []
        return list(application.allowed_scopes or [])
