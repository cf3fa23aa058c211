"""Every write to people, organizations, memberships and invitations. Each one audits itself."""

from __future__ import annotations

import functools
import logging
from datetime import timedelta
from importlib import import_module

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from accounts.events import membership_ended
from accounts.models import Invitation, KnownBrowser, Membership, Organization, User
from accounts.roles import Role, can_assign_role, can_manage_members
from accounts.selectors import browser_label, personal_organization
from accounts.two_factor import has_second_factor
from accounts.verification import require_verified_email
from audit.services import audit_record
from notifications.services import invitation_mail_queue
from portal import events
from portal.callers import Caller
from portal.conf import portal_settings
from portal.hashing import keyed_hash, new_token

logger = logging.getLogger(__name__)

INVITATION_HASH_PURPOSE = "invitation"
SESSION_CURRENT_ORG = "current_org"  # the organization a session last opened in the dashboard


@functools.cache
def _member_shape():
    from accounts.api.views import MemberOutput

    return events.api_shape(MemberOutput)


def _publish_member_event(membership: Membership, event_type: str) -> None:
    """The member as ``GET /api/v1/members`` shows them."""
    events.publish(membership.organization_id, event_type, lambda: _member_shape()(membership))


def _unique_slug(name: str, slug: str | None = None) -> str:
    if slug:
        slug = slugify(slug)[:60]
        if not slug:
            raise ValidationError({"slug": ["Use letters, numbers and hyphens."]})
        if Organization.objects.filter(slug=slug).exists():
            raise ValidationError({"slug": [f"The slug {slug!r} is taken."]})
        return slug
    base = slugify(name)[:50] or "org"
    candidate, n = base, 1
    while Organization.objects.filter(slug=candidate).exists():
        n += 1
        candidate = f"{base}-{n}"
    return candidate


@transaction.atomic
def organization_create(*, name: str, owner: User, actor: object, slug: str | None = None,
                        is_personal: bool = False) -> Organization:
    name = name.strip()
    if not name:
        raise ValidationError({"name": ["Give the organization a name."]})
    organization = Organization.objects.create(name=name, slug=_unique_slug(name, slug), is_personal=is_personal)
    membership = Membership.objects.create(organization=organization, user=owner, role=Role.OWNER)
    audit_record(action="organization.created", actor=actor, organization=organization, target=organization,
                 metadata={"slug": organization.slug})
    audit_record(action="member.added", actor=actor, organization=organization, target=membership,
                 target_label=owner.email, metadata={"role": Role.OWNER})
    _publish_member_event(membership, "member.added")
    return organization


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
    organization = organization_create(name=f"{label}'s organization", owner=user, actor=user, is_personal=True)
    audit_record(action="user.signed_up", actor=user, organization=organization, target=user)
    if email_verified:
        user_email_mark_verified(user=user, actor=user)
    return user, organization


def account_audit(*, user: User, action: str, actor: object = None, metadata: dict | None = None) -> None:
    """An account event of ``user``, in the audit log of their personal organization (contract section 11).

    ``metadata`` names what happened (a factor's type, a session's browser), never a secret, code or token.
    """
    audit_record(action=action, actor=user if actor is None else actor, organization=personal_organization(user),
                 target=user, metadata=metadata or {})


@transaction.atomic
def user_email_mark_verified(*, user: User, actor: object) -> None:
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
    account_audit(user=user, action="user.email_verified", actor=actor)


def user_verification_resend(*, request, user: User) -> bool:
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
def user_factor_remove(*, authenticator, actor: User) -> None:
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
        account_audit(user=user, action="user.mfa_removed", actor=actor,
                      metadata={"type": removed_kind, "byStaff": True})


def user_sign_in_from_browser(*, request, user: User) -> bool:
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
    account_audit(user=user, action="user.password_reset_requested", actor=None)


def user_session_ended(*, session, actor: object) -> None:
    """End one of a person's sessions (allauth.usersessions' ``UserSession``) and audit it."""
    user = session.user
    metadata = {"ip": session.ip, "browser": session.user_agent[:200]}
    session.end()
    account_audit(user=user, action="user.session_ended", actor=actor, metadata=metadata)


def user_other_sessions_end(*, user: User, keep_session_key: str | None, actor: object = None) -> int:
    """End every session of ``user`` but ``keep_session_key``: from the sessions page (``actor`` the person, each
    ended session audited), or after a password change or reset (Django's session hash already refuses them at
    their next request; this also removes them from the store and the list)."""
    from allauth.usersessions.models import UserSession

    ended = 0
    for session in UserSession.objects.filter(user=user).exclude(session_key=keep_session_key or ""):
        if actor is not None:
            user_session_ended(session=session, actor=actor)
        else:
            session.end()
        ended += 1
    return ended


@transaction.atomic
def organization_suspend(*, organization: Organization, actor: object, reason: str = "") -> Organization:
    """Suspend: every credential of the organization fails until it is reinstated."""
    organization = Organization.objects.select_for_update().get(pk=organization.pk)
    if organization.suspended_at is None:
        organization.suspended_at = timezone.now()
        organization.save(update_fields=["suspended_at"])
        audit_record(action="organization.suspended", actor=actor, organization=organization,
                     target=organization, metadata={"reason": reason} if reason else {})
    return organization


@transaction.atomic
def organization_reinstate(*, organization: Organization, actor: object) -> Organization:
    organization = Organization.objects.select_for_update().get(pk=organization.pk)
    if organization.suspended_at is not None:
        organization.suspended_at = None
        organization.save(update_fields=["suspended_at"])
        audit_record(action="organization.reinstated", actor=actor, organization=organization, target=organization)
    return organization


@transaction.atomic
def organization_require_two_factor(*, caller: Caller, required: bool) -> Organization:
    """Owners require (or stop requiring) two-factor of every member. An owner must have a second factor to turn
    it on, so that nobody locks the organization away from its own owner."""
    if team_role(caller) != Role.OWNER:
        raise PermissionDenied("Only owners change the organization's security policy.")
    actor = caller.audit_actor
    if required and caller.auth_type != "system" and not (caller.user and has_second_factor(caller.user)):
        raise ValidationError("Set up two-factor authentication for yourself first.")
    organization = Organization.objects.select_for_update().get(pk=caller.organization_id)
    if organization.require_two_factor != required:
        organization.require_two_factor = required
        organization.save(update_fields=["require_two_factor"])
        audit_record(action="organization.policy_changed", actor=actor, organization=organization,
                     target=organization, metadata={"requireTwoFactor": required})
    return organization


def team_role(caller: Caller) -> str:
    """The role a caller manages the team with. A person acts with their own role (through the dashboard, a
    session or an OAuth token, never more); staff in the admin and commands act as an owner; a credential of the
    organization itself (an API key or a client's own token, which the API lets in only with ``team:write``) acts
    as an admin."""
    if caller.role is not None:
        return caller.role
    if caller.auth_type == "system":
        return Role.OWNER
    return Role.ADMIN


def _require_member_manager(role: str) -> None:
    if not can_manage_members(role):
        raise PermissionDenied("Only owners and admins manage members.")


def _validate_role(role: str) -> str:
    if role not in Role.values:
        raise ValidationError({"role": [f"Choose one of: {', '.join(Role.values)}."]})
    return role


def invitation_url(token: str) -> str:
    return f"{portal_settings.BASE_URL}{reverse('invitation-accept', args=[token])}"


@transaction.atomic
def invitation_create(*, caller: Caller, email: str, role: str, notify: bool = True) -> tuple[Invitation, str]:
    """Invite ``email`` with ``role``. Returns the invitation and its token, which goes only by e-mail (queued
    for the worker; ``notify=False`` for a caller that accepts it at once, such as the demo data).

    A new invitation to the same address replaces the pending one.
    """
    acting_role, actor = team_role(caller), caller.audit_actor
    _require_member_manager(acting_role)
    role = _validate_role(role)
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
        invitation_mail_queue(organization=organization, email=email, role=role, inviter=inviter, url=url,
                              ttl_days=portal_settings.INVITATION_TTL_DAYS)
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
def invitation_accept(*, token: str, user: User) -> Membership:
    """Accept an invitation: single use, before it expires, by the person it was sent to."""
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
        _publish_member_event(membership, "member.added")
    return membership


@transaction.atomic
def invitation_revoke(*, caller: Caller, invitation: Invitation) -> Invitation:
    _require_member_manager(team_role(caller))
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk, organization=caller.organization)
    if not invitation.is_pending:
        raise ValidationError("Only a pending invitation can be revoked.")
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
    audit_record(action="invitation.revoked", actor=caller.audit_actor, organization=caller.organization,
                 target=invitation, target_label=invitation.email)
    return invitation


def _lock_owners(organization: Organization) -> list[Membership]:
    # Lock the owner rows so two concurrent demotions cannot both pass the last-owner check.
    return list(Membership.objects.select_for_update().filter(organization=organization, role=Role.OWNER))


LAST_OWNER_MESSAGE = "An organization must keep at least one owner. Make someone else an owner first."


@transaction.atomic
def membership_change_role(*, caller: Caller, membership: Membership, role: str) -> Membership:
    acting_role, organization = team_role(caller), caller.organization
    _require_member_manager(acting_role)
    role = _validate_role(role)
    membership = Membership.objects.select_for_update().select_related("user").get(
        pk=membership.pk, organization=organization
    )
    if not can_assign_role(acting_role, role) or not can_assign_role(acting_role, membership.role):
        raise PermissionDenied("Only owners change who is an owner.")
    if membership.role == role:
        return membership
    if membership.role == Role.OWNER and len(_lock_owners(organization)) <= 1:
        raise ValidationError({"role": [LAST_OWNER_MESSAGE]})
    old_role = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    audit_record(action="member.role_changed", actor=caller.audit_actor, organization=organization, target=membership,
                 target_label=membership.user.email, metadata={"from": old_role, "to": role})
    _publish_member_event(membership, "member.role_changed")
    return membership


@transaction.atomic
def membership_remove(*, caller: Caller, membership: Membership, revoke_credentials: bool = False) -> dict[str, int]:
    """Remove a member. Anyone may leave; owners and admins remove others (only owners remove owners).

    Every OAuth token acting as that person for the organization is revoked at once, and their sessions lose the
    organization; with ``revoke_credentials`` the API keys and OAuth clients they made are revoked in the same
    step (contract section 2). Returns what was revoked, as the audit event records it.
    """
    actor, organization = caller.audit_actor, caller.organization
    membership = Membership.objects.select_for_update().select_related("user", "organization").get(
        pk=membership.pk, organization=organization
    )
    leaving = isinstance(actor, User) and membership.user_id == actor.pk
    if not leaving and not can_assign_role(team_role(caller), membership.role):
        raise PermissionDenied("Your role does not allow removing this member.")
    if membership.role == Role.OWNER and len(_lock_owners(organization)) <= 1:
        raise ValidationError(LAST_OWNER_MESSAGE)
    revoked: dict[str, int] = {}
    for _receiver, counts in membership_ended.send(
        sender=Membership, organization=organization, user=membership.user, actor=actor,
        revoke_credentials=revoke_credentials,
    ):
        revoked.update(counts or {})
    audit_record(action="member.removed", actor=actor, organization=organization, target=membership,
                 target_label=membership.user.email,
                 metadata={"role": membership.role, "left": leaving, "revokedCredentials": revoke_credentials,
                           "revoked": revoked})
    _publish_member_event(membership, "member.removed")
    membership.delete()
    _sessions_forget_organization(membership.user, membership.organization.slug)
    return revoked


def _sessions_forget_organization(user: User, slug: str) -> None:
    """The former member's sessions stop acting in the organization (their dashboard and session API calls)."""
    from allauth.usersessions.models import UserSession

    engine = import_module(settings.SESSION_ENGINE)
    for user_session in UserSession.objects.filter(user=user):
        store = engine.SessionStore(user_session.session_key)
        if store.get(SESSION_CURRENT_ORG) == slug:
            store.pop(SESSION_CURRENT_ORG)
            store.save()
