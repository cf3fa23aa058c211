"""The portal's e-mails (section 14): what each says, to whom, and who turned which off.

Each mail is rendered here, text and HTML, in the transaction of what it reports, and handed to ``portal.mail``,
which keeps it encrypted until the worker sends it (never a request). No mail holds a secret but an invitation's
own link, which is the invitation.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership, Organization, User
from accounts.roles import Role
from notifications.models import NotificationPreference
from portal.callers import Caller
from portal.conf import portal_settings
from portal.mail import send_mail_after_commit
from portal.models import PendingMail

logger = logging.getLogger(__name__)

#: The account-security mails (always sent, to the person): kind -> what happened, in a sentence.
SECURITY_KINDS: dict[str, str] = {
    "password_changed": "The password of your account was changed.",
    "email_changed": "The e-mail address of your account was changed.",
    "new_sign_in": "Someone signed in to your account from a browser not seen before.",
    "mfa_added": "A second factor was added to your account.",
    "mfa_removed": "A second factor was removed from your account.",
}

#: Preferences a person may turn off (``NotificationPreference`` fields).
OPTIONAL_KINDS = ("key_expiry", "webhook_disabled")


def absolute(path: str) -> str:
    return f"{portal_settings.BASE_URL}{path}"


def email_queue(*, kind: str, to: Iterable[str], subject: str, template: str,
                context: dict[str, Any]) -> PendingMail | None:
    """Render ``notifications/email/<template>.txt`` and ``.html`` and queue the mail (``portal.mail``). Call
    inside the transaction of what it reports. Nobody to tell, no mail."""
    recipients = list(dict.fromkeys(address for address in to if address))
    if not recipients:
        return None
    context = {"base_url": portal_settings.BASE_URL, "subject": subject, **context}
    return send_mail_after_commit(kind=kind, subject=subject, to=recipients,
                                  body=render_to_string(f"notifications/email/{template}.txt", context),
                                  html=render_to_string(f"notifications/email/{template}.html", context))


# Preferences ---------------------------------------------------------------------------------------------


def preferences_for(user: User) -> NotificationPreference:
    return NotificationPreference.objects.filter(user=user).first() or NotificationPreference(user=user)


@transaction.atomic
def preferences_update(*, caller: Caller, key_expiry: bool, webhook_disabled: bool) -> NotificationPreference:
    """The mails the person ``caller`` (``Caller.for_person``) wants."""
    person = caller.person
    if not isinstance(person, User):  # a key or a command has no mail preferences to change
        raise PermissionDenied("Only a person has mail preferences.")
    preference, _ = NotificationPreference.objects.update_or_create(
        user=person, defaults={"key_expiry": bool(key_expiry), "webhook_disabled": bool(webhook_disabled)})
    return preference


def people_wanting(users: Iterable[User], preference: str) -> list[User]:
    users = [user for user in users if user is not None and user.is_active]
    off = set(NotificationPreference.objects.filter(user__in=users, **{preference: False})
              .values_list("user_id", flat=True))
    return [user for user in users if user.pk not in off]


def organization_managers(organization_id: int, roles: tuple[str, ...] = (Role.OWNER, Role.ADMIN)) -> list[User]:
    return [m.user for m in Membership.objects.filter(organization_id=organization_id, role__in=roles)
            .select_related("user").order_by("created_at")]


# The mails -----------------------------------------------------------------------------------------------


def invitation_mail_queue(*, organization: Organization, email: str, role: str, inviter: str, url: str,
                          ttl_days: int) -> PendingMail | None:
    """The invitation; its link (the token) is in the encrypted row, never in a job's arguments."""
    return email_queue(kind="invitation", to=[email], subject=f"You are invited to {organization.name}",
                       template="invitation",
                       context={"organization": organization, "role": role, "inviter": inviter, "url": url,
                                "ttl_days": ttl_days})


def security_notify(*, user_id: int, kind: str) -> PendingMail | None:
    """An account-security mail to the person (never turned off). ``kind`` is one of ``SECURITY_KINDS``."""
    if kind not in SECURITY_KINDS:
        raise ValueError(f"Unknown security notice {kind!r}")
    user = User.objects.get(pk=user_id)
    return email_queue(kind=f"security.{kind}", to=[user.email], subject="Security notice for your portal account",
                       template="security",
                       context={"user": user, "what": SECURITY_KINDS[kind], "when": timezone.now(),
                                "url": absolute("/accounts/password/")})


def notify_webhook_endpoint_disabled(*, organization: Organization, endpoint_url: str, reason: str,
                                     page: str) -> PendingMail | None:
    """To the organization's owners who have not turned it off."""
    owners = people_wanting(organization_managers(organization.pk, roles=(Role.OWNER,)), "webhook_disabled")
    return email_queue(kind="webhook_disabled", to=[user.email for user in owners],
                       subject=f"A webhook endpoint of {organization.name} was disabled", template="webhook_disabled",
                       context={"organization": organization, "endpoint_url": endpoint_url, "reason": reason,
                                "url": absolute(page)})


def notify_api_key_leaked(*, key: Any, where: dict[str, str]) -> PendingMail | None:
    """To the key's maker (while a member) and the organization's owners: a security notice, always sent. Names
    the key by its public id, never its secret."""
    organization = key.organization
    owners = organization_managers(organization.pk, roles=(Role.OWNER,))
    maker = [key.created_by] if Membership.objects.filter(organization=organization,
                                                          user_id=key.created_by_id).exists() else []
    return email_queue(kind="api_key_leaked", to=[user.email for user in [*maker, *owners]],
                       subject=f"An API key of {organization.name} was leaked and revoked", template="api_key_leaked",
                       context={"organization": organization, "key": key, "where_url": where.get("url", ""),
                                "source": where.get("source", ""),
                                "url": absolute(reverse("key-detail", args=[organization.slug, key.public_id]))})
