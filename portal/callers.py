"""Who is acting: one shape for a person in the dashboard, an API key, an OAuth token, a command.

Every service takes a ``Caller`` (``caller=``) so that the same rules (organization, scopes, what may be granted)
hold whether a key is made in the dashboard, through the API, in the admin or by a command. A service that acts
outside any organization (a person's own account, staff creating an organization) takes one too:
``Caller.for_person(user)`` or ``Caller.system()``, whose ``organization_id`` is None.

The core knows the apps' models only by what it uses of them (the protocols below), never by import.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from django.apps import apps
from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import models

from portal import scopes as scope_registry


class AuditActor(Protocol):
    """A credential (an API key, an OAuth client, a reporter of leaks) as the audit log names it."""

    @property
    def audit_actor_type(self) -> str: ...

    @property
    def audit_actor_id(self) -> str: ...


class Credential(AuditActor, Protocol):
    """What a caller's credential gives: the developer application behind it (``None`` for a non-key actor)."""

    @property
    def application(self) -> Any: ...


class OAuthClientLike(Protocol):
    """The OAuth client of a token (``oauthapps.OAuthClient``)."""

    client_id: str
    name: str

    @property
    def application(self) -> Any: ...


def organization_model() -> type[models.Model]:
    """The model named by ``settings.PORTAL_ORGANIZATION_MODEL`` (as ``get_user_model`` does for people): the core
    knows organizations only by their id and this name."""
    return apps.get_model(settings.PORTAL_ORGANIZATION_MODEL, require_ready=False)


@dataclass(frozen=True)
class Caller:
    """``organization`` is loaded on first use: authentication on the hot path knows only its id, and an
    endpoint such as ``/hello`` never needs more."""

    auth_type: str  # "api_key", "oauth2", "session", "dashboard", "person" or "system"
    organization_id: int | None  # None: acting outside any organization (a person's own account)
    scopes: frozenset[str]
    user: AbstractBaseUser | None = None
    role: str | None = None
    credential: Credential | None = None  # the ApiKey, for a key (an OAuth caller is its client and user)
    client: OAuthClientLike | None = None  # the OAuth client, for OAuth tokens
    expires_at: datetime | None = None
    rate_limit_per_minute: int | None = None
    loaded_organization: models.Model | None = field(default=None, repr=False, compare=False)

    @property
    def organization(self) -> Any:
        """The organization acted in (``accounts.Organization``), loaded on first use."""
        if self.loaded_organization is None:
            if self.organization_id is None:
                raise LookupError(f"This {self.auth_type} caller acts outside any organization.")
            object.__setattr__(self, "loaded_organization",
                               organization_model()._default_manager.get(pk=self.organization_id))
        return self.loaded_organization

    @classmethod
    def system(cls, organization: models.Model | None = None, actor: AbstractBaseUser | AuditActor | None = None,
               ) -> Caller:
        """Staff in the admin, a management command or the portal itself: every scope. ``actor`` is who the
        audit log names (a staff user, or the credential a change acts for); ``organization`` is None for a
        change outside any organization."""
        person = actor if isinstance(actor, AbstractBaseUser) or actor is None else None
        credential = None if person is not None or actor is None else actor
        return cls(auth_type="system", organization_id=None if organization is None else organization.pk,
                   loaded_organization=organization, user=person, credential=credential,  # type: ignore[arg-type]
                   scopes=frozenset(scope_registry.registry()))

    @classmethod
    def for_person(cls, user: AbstractBaseUser) -> Caller:
        """A person acting on their own account (signing up, their sessions, second factors, preferences),
        outside any organization: no scope, no role."""
        return cls(auth_type="person", organization_id=None, scopes=frozenset(), user=user)

    @property
    def application(self) -> Any:
        """The developer application behind the credential (loaded on first use), if any."""
        if self.client is not None:
            return self.client.application
        if self.auth_type == "api_key" and self.credential is not None:
            return self.credential.application
        return None

    @property
    def audit_actor(self) -> AbstractBaseUser | AuditActor | None:
        """What the audit log names as the actor: the credential if there is one, else the person.

        An OAuth access token (DOT's model, which knows nothing of the audit log) is named by its client,
        with the person it acts for."""
        if self.auth_type == "oauth2" and self.client is not None:
            return OAuthTokenActor(self.client, self.user)
        return self.credential if self.credential is not None else self.user

    @property
    def person(self) -> AbstractBaseUser | None:
        """The human behind the call, if any (a key made by a command has none)."""
        return self.user

    def missing_scopes(self, required: list[str]) -> list[str]:
        return scope_registry.missing(self.scopes, required)


class OAuthTokenActor:
    """An OAuth access token as an audit actor: its client, and the person it acts for (if any)."""

    audit_actor_type = "oauth_client"

    def __init__(self, client: OAuthClientLike, user: AbstractBaseUser | None = None) -> None:
        self.client, self.audit_actor_user = client, user

    @property
    def audit_actor_id(self) -> str:
        return self.client.client_id

    def __str__(self) -> str:
        return f"{self.client} (OAuth)" + (f" for {self.audit_actor_user}" if self.audit_actor_user else "")
