"""Organization roles and what each may do. The one place that answers "may this role ...?"."""

from __future__ import annotations

from django.db import models

from portal import scopes as scope_registry


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    DEVELOPER = "developer", "Developer"
    VIEWER = "viewer", "Viewer"


# Higher number, more power.
RANK = {Role.VIEWER: 0, Role.DEVELOPER: 1, Role.ADMIN: 2, Role.OWNER: 3}


def role_at_least(role: str, minimum: str) -> bool:
    return RANK[Role(role)] >= RANK[Role(minimum)]


def can_manage_members(role: str) -> bool:
    """Owners and admins invite, change roles and remove members."""
    return role_at_least(role, Role.ADMIN)


def can_manage_credentials(role: str) -> bool:
    """Owners, admins and developers manage applications, keys and OAuth clients."""
    return role_at_least(role, Role.DEVELOPER)


def can_assign_role(actor_role: str, role: str) -> bool:
    """Only owners hand out (or take away) the owner role; admins manage everyone below it."""
    if not can_manage_members(actor_role):
        return False
    return role != Role.OWNER or actor_role == Role.OWNER


def role_ceiling(role: str) -> list[str]:
    """The most a person of ``role`` may put into a credential (or hold through a token)."""
    table = scope_registry.presets()
    if role in (Role.OWNER, Role.ADMIN):
        return table["ADMIN"]
    ceiling = table["STANDARD"] if role == Role.DEVELOPER else table["READ_ONLY"]
    # OpenID Connect's scopes describe the person themselves: every role may share them.
    return [*ceiling, *(s for s in scope_registry.IDENTITY_SCOPES if s not in ceiling)]
