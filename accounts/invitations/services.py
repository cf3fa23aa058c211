"""Writes about invitations: inviting an address with a role (the token goes only by e-mail, stored as a
keyed hash), accepting and revoking."""

from __future__ import annotations

from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.events import invitation_mailing
from accounts.memberships.services import publish_member_event, require_member_manager, team_role, validate_role
from accounts.models import Invitation, Membership, User
from accounts.roles import can_assign_role
from accounts.verification import require_verified_email
from audit.services import audit_record
from portal.callers import Caller
from portal.conf import portal_settings
from portal.hashing import keyed_hash, new_token

INVITATION_HASH_PURPOSE = "invitation"


def invitation_url(token: str) -> str:
    return f"{portal_settings.BASE_URL}{reverse('invitation-accept', args=[token])}"


@transaction.atomic
def invitation_create(*, caller: Caller, email: str, role: str, notify: bool = True) -> tuple[Invitation, str]:
    """Invite ``email`` with ``role``. Returns the invitation and its token, which goes only by e-mail (queued
    for the worker; ``notify=False`` for a caller that accepts it at once, such as the demo data).

    A new invitation to the same address replaces the pending one.
    """
    acting_role, actor = team_role(caller), caller.audit_actor
    require_member_manager(acting_role)
    role = validate_role(role)
    if not can_assign_role(acting_role, role):
        raise PermissionDenied("Only owners can invite owners.")
    require_verified_email(actor, "an invitation")
    email = email.strip().lower()
    organization = caller.organization
    if Membership.objects.filter(organization=organization, user__email__iexact=email).exists():
        raise ValidationError({"email": ["This person is already a member."]})
    now = timezone.now()
    replaced = Invitation.objects.filter(
        organization=organization, email__iexact=email, accepted_at__isnull=True, revoked_at__isnull=True
    ).update(revoked_at=now)
    token = new_token()
    invitation = Invitation.objects.create(
        organization=organization,
        email=email,
        role=role,
        token_hash=keyed_hash(token, purpose=INVITATION_HASH_PURPOSE),
        invited_by=actor if isinstance(actor, User) else None,
        expires_at=now + timedelta(days=portal_settings.INVITATION_TTL_DAYS),
    )
    audit_record(action="invitation.created", actor=actor, organization=organization, target=invitation,
                 target_label=email, metadata={"role": role, "replaced": replaced})
    url = invitation_url(token)
    inviter = actor.email if isinstance(actor, User) else organization.name
    if notify:
        invitation_mailing.send(sender=Invitation, organization=organization, email=email, role=role,
                                inviter=inviter, url=url, ttl_days=portal_settings.INVITATION_TTL_DAYS)
    return invitation, token


def invitation_by_token(token: str) -> Invitation | None:
    """The invitation for ``token`` (any status), looked up by its keyed hash."""
    if not token or len(token) > 100:
        return None
    return (
        Invitation.objects.select_related("organization", "invited_by")
        .filter(token_hash=keyed_hash(token, purpose=INVITATION_HASH_PURPOSE))
        .first()
    )


@transaction.atomic
def invitation_accept(*, caller: Caller, token: str) -> Membership:
    """Accept an invitation: single use, before it expires, by the person it was sent to (``caller``, a
    ``Caller.for_person``)."""
    user = caller.person
    if not isinstance(user, User):
        raise PermissionDenied("Only a person accepts an invitation.")
    invitation = invitation_by_token(token)
    if invitation is not None:
        invitation = Invitation.objects.select_for_update().select_related("organization").get(pk=invitation.pk)
    if invitation is None or invitation.status in {"revoked", "accepted"}:
        raise ValidationError("This invitation is no longer valid.")
    if invitation.status == "expired":
        raise ValidationError("This invitation has expired. Ask for a new one.")
    if invitation.email.lower() != user.email.lower():
        raise ValidationError(f"This invitation was sent to {invitation.email}. Sign in with that address.")
    require_verified_email(user, "joining an organization")
    membership, created = Membership.objects.get_or_create(
        organization=invitation.organization, user=user, defaults={"role": invitation.role}
    )
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    audit_record(action="invitation.accepted", actor=user, organization=invitation.organization,
                 target=invitation, target_label=invitation.email)
    if created:
        audit_record(action="member.added", actor=user, organization=invitation.organization,
                     target=membership, target_label=user.email, metadata={"role": membership.role})
        publish_member_event(membership, "member.added")
    return membership


@transaction.atomic
def invitation_revoke(*, caller: Caller, invitation: Invitation) -> Invitation:
    require_member_manager(team_role(caller))
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk, organization=caller.organization)
    if not invitation.is_pending:
        raise ValidationError("Only a pending invitation can be revoked.")
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
    audit_record(action="invitation.revoked", actor=caller.audit_actor, organization=caller.organization,
                 target=invitation, target_label=invitation.email)
    return invitation
