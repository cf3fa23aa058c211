"""Sign-in audit events; changes to people, organizations and memberships stop the credentials that depend on
them from being served out of the shared credential cache (``portal.requestpath``)."""

from __future__ import annotations

from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from accounts.models import Membership, Organization, User
from audit.services import audit_record
from portal import requestpath


@receiver(user_logged_in)
def audit_sign_in(sender, request, user, **kwargs) -> None:
    audit_record(action="user.signed_in", actor=user, target=user)


@receiver(user_login_failed)
def audit_failed_sign_in(sender, credentials, request=None, **kwargs) -> None:
    # Django already masks the password in ``credentials``; only the email tried is kept.
    email = str(credentials.get("username") or credentials.get("email") or "")[:254]
    audit_record(action="user.sign_in_failed", actor=None, target_label=email, metadata={"email": email})


@receiver(post_save, sender=Organization)
@receiver(post_delete, sender=Organization)
def organization_changed(sender, instance: Organization, created: bool = False, **kwargs) -> None:
    if not created:  # suspension, reinstatement, policy
        requestpath.changed(requestpath.dependency("org", instance.pk))


@receiver(post_save, sender=Membership)
@receiver(post_delete, sender=Membership)
def membership_changed(sender, instance: Membership, created: bool = False, **kwargs) -> None:
    if not created:  # a role cuts the scopes of that person's tokens; leaving ends them
        requestpath.changed(requestpath.dependency("org", instance.organization_id))


@receiver(post_save, sender=User)
@receiver(post_delete, sender=User)
def user_changed(sender, instance: User, created: bool = False, **kwargs) -> None:
    if not created:  # deactivated, or deleted
        requestpath.changed(requestpath.dependency("user", instance.pk))
