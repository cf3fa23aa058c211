"""Sign-in audit events, and the signal that tells credential caches an organization changed."""

from __future__ import annotations

from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import Signal, receiver

from audit.services import audit_record

organization_status_changed = Signal()  # kwargs: organization


@receiver(user_logged_in)
def audit_sign_in(sender, request, user, **kwargs) -> None:
    audit_record(action="user.signed_in", actor=user, target=user)


@receiver(user_login_failed)
def audit_failed_sign_in(sender, credentials, request=None, **kwargs) -> None:
    # Django already masks the password in ``credentials``; only the email tried is kept.
    email = str(credentials.get("username") or credentials.get("email") or "")[:254]
    audit_record(action="user.sign_in_failed", actor=None, target_label=email, metadata={"email": email})
