"""E-mail verification as a gate (contract sections 4 and 11): until a person has used the link mailed at sign-up, they
work with ``test`` keys only; ``live`` keys, OAuth clients, webhooks and invitations (sent or accepted) need a
verified address (a webhook endpoint: made, pointed elsewhere, turned on, its secret rotated). Services call
``require_verified_email`` with whoever acts, so the dashboard, the API and a key made by that person are held to the
same rule; staff and commands act for nobody and pass."""

from __future__ import annotations

from typing import Any

from allauth.account.models import EmailAddress
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from accounts.models import User

NOT_VERIFIED_MESSAGE = (
    "Your email address must be verified first: open the link we mailed you, or ask for a new one from your account."
)


class EmailNotVerified(PermissionDenied):
    """403: the API answers ``FORBIDDEN`` with this message; the dashboard shows a page that resends the link."""

    def __init__(self, what: str = "") -> None:
        super().__init__(NOT_VERIFIED_MESSAGE)
        self.what = what


def email_verified(user: User) -> bool:
    return EmailAddress.objects.filter(user=user, email__iexact=user.email, verified=True).exists()


def acting_person(actor: Any) -> User | None:
    """The person an actor acts for: a user; a ``Caller`` (its person, or the maker of its API key); an API key
    (its maker); an OAuth token (its person). None for staff tools and commands."""
    if isinstance(actor, User):
        return actor
    if getattr(actor, "auth_type", None) == "system":
        return None  # staff in the admin, a management command
    person = getattr(actor, "person", None) or getattr(actor, "audit_actor_user", None)
    if isinstance(person, User):
        return person
    credential = getattr(actor, "credential", None) or actor
    maker = getattr(credential, "created_by", None)
    return maker if isinstance(maker, User) else None


def require_verified_email(actor: Any, what: str) -> None:
    """Raise ``EmailNotVerified`` when the person behind ``actor`` has not verified their address."""
    person = acting_person(actor)
    if person is not None and not email_verified(person):
        raise EmailNotVerified(what)


def verification_banner(request: HttpRequest) -> dict[str, Any]:
    """Context processor: ``email_unverified`` for the banner every page shows a person who has not verified their
    address yet (the overview right after sign-up above all), with the button that mails the link again. Lazy: a
    page that does not show the banner (no one signed in) costs no query."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"email_unverified": SimpleLazyObject(lambda: not email_verified(user))}
