"""Who is acting: one shape for a person in the dashboard, an API key, an OAuth token, a command.

Services take a ``Caller`` so that the same rules (organization, scopes, what may be granted) hold
whether a key is made in the dashboard, through the API, in the admin or by a command.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from accounts.models import Organization
from portal import scopes as scope_registry


@dataclass(frozen=True)
class Caller:
    auth_type: str  # "api_key", "oauth2", "session", "dashboard" or "system"
    organization: Organization
    scopes: frozenset[str]
    user: Any = None
    role: str | None = None
    credential: Any = None  # the ApiKey or OAuth access token, when there is one
    application: Any = None
    client: Any = None  # the OAuth client, for OAuth tokens
    expires_at: datetime | None = None
    rate_limit_per_minute: int | None = None
    extra: dict = field(default_factory=dict, compare=False)

    @classmethod
    def for_member(cls, organization: Organization, user: Any, role: str, auth_type: str = "dashboard") -> Caller:
        """A person acting through the dashboard or a session: their role decides their scopes."""
        return cls(auth_type=auth_type, organization=organization, user=user, role=role,
                   scopes=frozenset(scope_registry.role_ceiling(role)))

    @classmethod
    def system(cls, organization: Organization, actor: Any = None) -> Caller:
        """Staff in the admin, or a management command: every scope."""
        return cls(auth_type="system", organization=organization, user=actor,
                   scopes=frozenset(scope_registry.registry()))

    @property
    def audit_actor(self) -> Any:
        """What the audit log names as the actor: the credential if there is one, else the person."""
        return self.credential if self.credential is not None else self.user

    @property
    def person(self) -> Any:
        """The human behind the call, if any (a key made by a command has none)."""
        return self.user

    def has_scopes(self, *required: str) -> bool:
        return scope_registry.grants(self.scopes, required)

    def missing_scopes(self, required: list[str]) -> list[str]:
        return scope_registry.missing(self.scopes, required)
