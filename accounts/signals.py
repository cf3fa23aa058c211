"""Account events: sign-in audit events and mails, django-allauth's account and two-factor events audited in the
person's personal organization; changes to people, organizations and memberships stop the credentials that
depend on them from being served out of the shared credential cache (``portal.credential_cache``)."""

from __future__ import annotations

from allauth.account import signals as account_signals
from allauth.account.models import EmailConfirmation
from allauth.mfa import signals as mfa_signals
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from accounts.middleware import session_seen
from accounts.models import Membership, Organization, User
from accounts.people.services import account_audit, user_other_sessions_end, user_sign_in_from_browser
from accounts.two_factor import unused_recovery_codes
from audit.services import audit_record
from portal.credential_cache import changed, dependency


@receiver(user_logged_in)
def audit_sign_in(sender, request, user, **kwargs) -> None:
    audit_record(action="user.signed_in", actor=user, target=user)
    if getattr(request, "session", None) is not None:
        session_seen(request)  # allauth.usersessions recorded this session as it signed in
    if request is not None and getattr(request, "META", None) is not None:
        user_sign_in_from_browser(request=request, user=user)


@receiver(user_login_failed)
def audit_failed_sign_in(sender, credentials, request=None, **kwargs) -> None:
    # Django already masks the password in ``credentials``; only the email tried is kept.
    email = str(credentials.get("username") or credentials.get("email") or "")[:254]
    audit_record(action="user.sign_in_failed", actor=None, target_label=email, metadata={"email": email})


@receiver(account_signals.email_confirmed)
def audit_email_verified(sender, request, email_address, **kwargs) -> None:
    # A link works once: what is left of this address's confirmations is spent.
    EmailConfirmation.objects.filter(email_address=email_address).delete()
    account_audit(user=email_address.user, action="user.email_verified")


@receiver(account_signals.email_changed)
def audit_email_changed(sender, request, user, from_email_address, to_email_address, **kwargs) -> None:
    # allauth mails the old address ("email changed") itself; this records it in the person's log.
    account_audit(user=user, action="user.email_changed", metadata={
        "from": from_email_address.email if from_email_address else "", "to": to_email_address.email})


@receiver(account_signals.password_changed)
def end_other_sessions_on_password_change(sender, request, user, **kwargs) -> None:
    account_audit(user=user, action="user.password_changed")
    user_other_sessions_end(user=user, keep_session_key=request.session.session_key)


@receiver(account_signals.password_reset)
def end_every_session_on_password_reset(sender, request, user, **kwargs) -> None:
    # Whoever reset the password is not signed in by the reset (ACCOUNT_LOGIN_ON_PASSWORD_RESET is off).
    ended = user_other_sessions_end(user=user, keep_session_key=None)
    account_audit(user=user, action="user.password_reset", metadata={"sessionsEnded": ended})


@receiver(mfa_signals.authenticator_added)
def audit_factor_added(sender, request, user, authenticator, **kwargs) -> None:
    account_audit(user=user, action="user.mfa_added", metadata={"type": authenticator.type})


@receiver(mfa_signals.authenticator_removed)
def audit_factor_removed(sender, request, user, authenticator, **kwargs) -> None:
    account_audit(user=user, action="user.mfa_removed", metadata={"type": authenticator.type})


@receiver(mfa_signals.authenticator_reset)
def audit_factor_reset(sender, request, user, authenticator, **kwargs) -> None:
    account_audit(user=user, action="user.mfa_reset", metadata={"type": authenticator.type})


@receiver(mfa_signals.authenticator_used)
def audit_recovery_code_used(sender, request, user, authenticator, **kwargs) -> None:
    if authenticator.type == authenticator.Type.RECOVERY_CODES:
        account_audit(user=user, action="user.recovery_code_used",
                      metadata={"remaining": len(unused_recovery_codes(user))})


@receiver(post_save, sender=Organization)
@receiver(post_delete, sender=Organization)
def organization_changed(sender, instance: Organization, created: bool = False, **kwargs) -> None:
    if not created:  # suspension, reinstatement, policy
        changed(dependency("org", instance.pk))


@receiver(post_save, sender=Membership)
@receiver(post_delete, sender=Membership)
def membership_changed(sender, instance: Membership, created: bool = False, **kwargs) -> None:
    if not created:  # a role cuts the scopes of that person's tokens; leaving ends them
        changed(dependency("org", instance.organization_id))


@receiver(post_save, sender=User)
@receiver(post_delete, sender=User)
def user_changed(sender, instance: User, created: bool = False, **kwargs) -> None:
    if not created:  # deactivated, or deleted
        changed(dependency("user", instance.pk))
