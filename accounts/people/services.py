"""Writes about people and their sessions: signing up, verifying an address, second factors, sessions ended,
and the account events audited in the person's own organization."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.urls import reverse

from accounts.models import KnownBrowser, Organization, User
from accounts.organizations.services import organization_create
from accounts.selectors import browser_label, personal_organization
from audit.services import audit_record
from portal.callers import Caller
from portal.conf import portal_settings
from portal.hashing import keyed_hash


@transaction.atomic
def user_signup(*, email: str, password: str, full_name: str = "",
                email_verified: bool = False) -> tuple[User, Organization]:
    """Create a user and the personal organization they own.

    ``email_verified`` when the address is already proven (an invitation's token came to it by e-mail); otherwise
    allauth records the address unverified and mails the link.
    """
    email = email.strip().lower()
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError({"email": ["An account with this email already exists."]})
    try:
        user = User.objects.create_user(email=email, password=password, full_name=full_name.strip())
    except IntegrityError:
        raise ValidationError({"email": ["An account with this email already exists."]}) from None
    label = full_name.strip() or email.split("@", 1)[0]
    organization = organization_create(caller=Caller.for_person(user), name=f"{label}'s organization", owner=user,
                                       is_personal=True)
    audit_record(action="user.signed_up", actor=user, organization=organization, target=user)
    if email_verified:
        user_email_mark_verified(caller=Caller.for_person(user), user=user)
    return user, organization


def account_audit(*, user: User, action: str, caller: Caller | None = None,
                  metadata: dict[str, Any] | None = None) -> None:
    """An account event of ``user``, in the audit log of their personal organization (contract section 11).

    ``caller`` is who acted: the person themselves when it is None. ``metadata`` names what happened (a factor's
    type, a session's browser), never a secret, code or token.
    """
    audit_record(action=action, actor=user if caller is None else caller.audit_actor,
                 organization=personal_organization(user), target=user, metadata=metadata or {})


@transaction.atomic
def user_email_mark_verified(*, caller: Caller, user: User) -> None:
    """Record ``user``'s address as verified (a command, the demo data, an invitation's proof, staff)."""
    from allauth.account.models import EmailAddress

    address = EmailAddress.objects.filter(user=user, email__iexact=user.email).first()
    if address is None:
        EmailAddress.objects.filter(user=user, primary=True).update(primary=False)
        EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=True)
    elif not address.verified:
        address.verified = True
        address.save(update_fields=["verified"])
    else:
        return
    account_audit(user=user, action="user.email_verified", caller=caller)


def user_verification_resend(*, request: HttpRequest, user: User) -> bool:
    """Mail ``user`` a new verification link; False when the address is verified already or a link went out a
    moment ago (allauth's ``confirm_email`` rate limit)."""
    from allauth.account.models import EmailAddress
    from allauth.core import ratelimit

    address = EmailAddress.objects.filter(user=user, email__iexact=user.email).first()
    if address is None:
        address = EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=False)
    if address.verified or not ratelimit.consume(request, action="confirm_email", key=address.email.lower()):
        return False
    address.send_confirmation(request)
    account_audit(user=user, action="user.verification_sent")
    return True


@transaction.atomic
def user_factor_remove(*, caller: Caller, authenticator: Any) -> None:
    """Staff remove a second factor of a locked-out person (contract section 9). Without a TOTP app or security
    key left, the recovery codes go too, as when the person turns their last factor off."""
    from allauth.mfa.models import Authenticator

    user = authenticator.user
    kind = authenticator.type
    authenticator.delete()
    removed = [kind]
    if not Authenticator.objects.filter(user=user).exclude(type=Authenticator.Type.RECOVERY_CODES).exists():
        if Authenticator.objects.filter(user=user, type=Authenticator.Type.RECOVERY_CODES).delete()[0]:
            removed.append(Authenticator.Type.RECOVERY_CODES)
    for removed_kind in removed:
        account_audit(user=user, action="user.mfa_removed", caller=caller,
                      metadata={"type": removed_kind, "byStaff": True})


def user_sign_in_from_browser(*, request: HttpRequest, user: User) -> bool:
    """Remember the browser ``user`` signed in from; mail them when it is one not seen before (never on the
    first sign-in of an account). True when the mail went out."""
    from allauth.account.adapter import get_adapter

    agent = request.META.get("HTTP_USER_AGENT", "")[:500]
    fingerprint = keyed_hash(agent, purpose="known-browser")
    had_browsers = KnownBrowser.objects.filter(user=user).exists()
    _browser, created = KnownBrowser.objects.get_or_create(user=user, fingerprint=fingerprint)
    if not created or not had_browsers:
        return False
    get_adapter(request).send_notification_mail("account/email/new_sign_in", user, {
        "browser": browser_label(agent), "sessions_url": f"{portal_settings.BASE_URL}{reverse('sessions')}"})
    return True


def user_password_reset_requested(*, user: User) -> None:
    """Audited when the reset mail goes to a person with an account (an unknown address leaves no event, and the
    page answers the same either way)."""
    account_audit(user=user, action="user.password_reset_requested")


def user_session_ended(*, caller: Caller, session: Any) -> None:
    """End one of a person's sessions (allauth.usersessions' ``UserSession``) and audit it."""
    user = session.user
    metadata = {"ip": session.ip, "browser": session.user_agent[:200]}
    session.end()
    account_audit(user=user, action="user.session_ended", caller=caller, metadata=metadata)


def user_other_sessions_end(*, user: User, keep_session_key: str | None, caller: Caller | None = None) -> int:
    """End every session of ``user`` but ``keep_session_key``: from the sessions page (``caller`` the person, each
    ended session audited), or after a password change or reset (Django's session hash already refuses them at
    their next request; this also removes them from the store and the list)."""
    from allauth.usersessions.models import UserSession

    ended = 0
    for session in UserSession.objects.filter(user=user).exclude(session_key=keep_session_key or ""):
        if caller is not None:
            user_session_ended(caller=caller, session=session)
        else:
            session.end()
        ended += 1
    return ended
