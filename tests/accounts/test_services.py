"""The rules of people, organizations, memberships and invitations, checked at the service layer."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from accounts.invitations.services import invitation_accept, invitation_create, invitation_revoke
from accounts.memberships.services import membership_change_role, membership_remove
from accounts.models import Invitation, Membership, Organization, User
from accounts.organizations.services import organization_create, organization_reinstate, organization_suspend
from accounts.people.services import user_signup
from accounts.roles import Role
from accounts.selectors import OrgAccess, access_organization_by_slug
from audit.context import RequestContext, reset_request_context, set_request_context
from audit.models import AuditEvent
from portal.callers import Caller
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def access(user: User, org: Organization) -> OrgAccess:
    return access_organization_by_slug(user, org.slug)


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


@pytest.fixture
def request_context() -> Iterator[RequestContext]:
    """Services called while a request is being served (the middleware sets this)."""
    context = RequestContext(ip_address="203.0.113.7", user_agent="pytest-browser/1.0")
    token = set_request_context(context)
    yield context
    reset_request_context(token)


def invite(by: User, org: Organization, email: str = "new@example.com", role: str = Role.DEVELOPER) -> str:
    _invitation, token = invitation_create(caller=access(by, org).caller, email=email, role=role)
    return token


# --- Organizations and sign-up -------------------------------------------------------------------------------


def test_organization_create_makes_the_owner_a_member_and_audits_both():
    owner = UserFactory()
    actor = UserFactory()

    organization = organization_create(caller=Caller.for_person(actor), name="Initech", owner=owner)

    assert organization.slug == "initech"
    assert list(organization.memberships.values_list("user__email", "role")) == [(owner.email, Role.OWNER)]
    created, added = events("organization.created"), events("member.added")
    assert [(e.organization, e.actor_user, e.target_id) for e in created] == [
        (organization, actor, str(organization.pk))
    ]
    assert [(e.actor_user, e.target_label, e.metadata) for e in added] == [(actor, owner.email, {"role": "owner"})]


def test_organization_created_by_a_command_is_audited_as_system():
    organization = organization_create(caller=Caller.system(), name="Initech", owner=UserFactory())

    event = AuditEvent.objects.get(action="organization.created", organization=organization)
    assert event.actor_user is None
    assert event.actor_label == "system"


def test_organization_slug_is_derived_and_made_unique():
    owner = UserFactory()
    first = organization_create(caller=Caller.for_person(owner), name="Acme Widgets", owner=owner)
    second = organization_create(caller=Caller.for_person(owner), name="Acme Widgets", owner=owner)

    assert (first.slug, second.slug) == ("acme-widgets", "acme-widgets-2")


def test_an_explicit_slug_that_is_taken_is_refused():
    owner = UserFactory()
    organization_create(caller=Caller.for_person(owner), name="Acme", owner=owner, slug="acme")

    with pytest.raises(ValidationError) as error:
        organization_create(caller=Caller.for_person(owner), name="Other", owner=owner, slug="acme")

    assert "taken" in str(error.value)
    assert Organization.objects.filter(name="Other").count() == 0


def test_an_organization_needs_a_name():
    with pytest.raises(ValidationError):
        organization_create(caller=Caller.system(), name="   ", owner=UserFactory())


def test_signup_creates_the_user_and_a_personal_organization_they_own():
    user, organization = user_signup(email="Ada@Example.com", password="a-long-password-1", full_name="Ada")

    assert user.email == "ada@example.com"
    assert user.check_password("a-long-password-1")
    assert organization.is_personal
    assert Membership.objects.get(organization=organization).role == Role.OWNER
    assert [e.actor_user for e in events("user.signed_up")] == [user]


def test_signup_with_an_email_that_exists_in_another_case_is_refused():
    user_signup(email="ada@example.com", password="a-long-password-1")

    with pytest.raises(ValidationError):
        user_signup(email="ADA@example.com", password="a-long-password-1")

    assert User.objects.count() == 1


# --- Suspension ----------------------------------------------------------------------------------------------


def test_suspend_and_reinstate_are_audited_once_even_when_repeated(org, django_capture_on_commit_callbacks):
    staff = UserFactory(is_staff=True)

    with django_capture_on_commit_callbacks(execute=True):
        organization_suspend(caller=Caller.system(org, actor=staff))
        organization_suspend(caller=Caller.system(org, actor=staff))
    org.refresh_from_db()
    assert org.is_suspended

    with django_capture_on_commit_callbacks(execute=True):
        organization_reinstate(caller=Caller.system(org, actor=staff))
        organization_reinstate(caller=Caller.system(org, actor=staff))
    org.refresh_from_db()
    assert not org.is_suspended

    assert [(e.actor_user, e.organization) for e in events("organization.suspended")] == [(staff, org)]
    assert [(e.actor_user, e.organization) for e in events("organization.reinstated")] == [(staff, org)]


def test_suspension_reason_is_kept_in_the_audit_metadata(org):
    organization_suspend(caller=Caller.system(org), reason="unpaid invoices")

    assert events("organization.suspended")[0].metadata == {"reason": "unpaid invoices"}


# --- Invitations ---------------------------------------------------------------------------------------------


def test_invitation_stores_only_a_hash_of_the_token_and_mails_the_link(
    org, owner, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        token = invite(owner, org, email="New@Example.com")

    invitation = Invitation.objects.get()
    assert invitation.email == "new@example.com"
    assert token not in invitation.token_hash
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["new@example.com"]
    assert token in mailoutbox[0].body
    [event] = events("invitation.created")
    assert (event.actor_user, event.target_label, event.metadata["role"]) == (owner, "new@example.com", "developer")
    assert token not in str(event.metadata)


def test_accepting_an_invitation_makes_a_member_with_the_invited_role(org, owner):
    token = invite(owner, org, email="new@example.com", role=Role.VIEWER)
    newcomer = UserFactory(email="new@example.com")

    membership = invitation_accept(caller=Caller.for_person(newcomer), token=token)

    assert (membership.organization, membership.user, membership.role) == (org, newcomer, Role.VIEWER)
    assert Invitation.objects.get().status == "accepted"
    assert [e.actor_user for e in events("invitation.accepted")] == [newcomer]
    assert [e.target_label for e in events("member.added") if e.organization == org] == [newcomer.email]


def test_an_invitation_cannot_be_used_twice(org, owner):
    token = invite(owner, org)
    newcomer = UserFactory(email="new@example.com")
    invitation_accept(caller=Caller.for_person(newcomer), token=token)

    with pytest.raises(ValidationError, match="no longer valid"):
        invitation_accept(caller=Caller.for_person(newcomer), token=token)

    assert Membership.objects.filter(organization=org, user=newcomer).count() == 1


def test_an_expired_invitation_is_refused(org, owner):
    token = invite(owner, org)
    Invitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    with pytest.raises(ValidationError, match="expired"):
        invitation_accept(caller=Caller.for_person(UserFactory(email="new@example.com")), token=token)

    assert not Membership.objects.filter(organization=org, user__email="new@example.com").exists()


def test_a_revoked_invitation_is_refused(org, owner):
    token = invite(owner, org)
    invitation_revoke(caller=access(owner, org).caller, invitation=Invitation.objects.get())

    with pytest.raises(ValidationError, match="no longer valid"):
        invitation_accept(caller=Caller.for_person(UserFactory(email="new@example.com")), token=token)

    assert [e.actor_user for e in events("invitation.revoked")] == [owner]


def test_an_invitation_is_only_for_the_address_it_was_sent_to(org, owner):
    token = invite(owner, org, email="new@example.com")

    with pytest.raises(ValidationError, match="new@example.com"):
        invitation_accept(caller=Caller.for_person(UserFactory(email="someone-else@example.com")), token=token)


@pytest.mark.parametrize("token", ["", "not-a-token", "x" * 500])
def test_an_unknown_token_is_refused(token):
    with pytest.raises(ValidationError, match="no longer valid"):
        invitation_accept(caller=Caller.for_person(UserFactory()), token=token)


def test_a_new_invitation_replaces_the_pending_one(org, owner):
    old_token = invite(owner, org, email="new@example.com")
    new_token = invite(owner, org, email="new@example.com")
    newcomer = UserFactory(email="new@example.com")

    with pytest.raises(ValidationError):
        invitation_accept(caller=Caller.for_person(newcomer), token=old_token)
    invitation_accept(caller=Caller.for_person(newcomer), token=new_token)

    assert sorted(i.status for i in Invitation.objects.all()) == ["accepted", "revoked"]


def test_a_member_cannot_be_invited_again(org, owner, developer):
    with pytest.raises(ValidationError, match="already a member"):
        invite(owner, org, email=developer.email.upper())


def test_only_a_pending_invitation_can_be_revoked(org, owner):
    token = invite(owner, org)
    invitation_accept(caller=Caller.for_person(UserFactory(email="new@example.com")), token=token)

    with pytest.raises(ValidationError):
        invitation_revoke(caller=access(owner, org).caller, invitation=Invitation.objects.get())


@pytest.mark.parametrize(
    ("inviter_role", "invited_role", "allowed"),
    [
        (Role.OWNER, Role.OWNER, True),
        (Role.OWNER, Role.ADMIN, True),
        (Role.ADMIN, Role.OWNER, False),
        (Role.ADMIN, Role.ADMIN, True),
        (Role.ADMIN, Role.VIEWER, True),
        (Role.DEVELOPER, Role.VIEWER, False),
        (Role.VIEWER, Role.VIEWER, False),
    ],
)
def test_who_may_invite_whom(org, inviter_role, invited_role, allowed):
    inviter = MembershipFactory(organization=org, role=inviter_role).user

    if allowed:
        invite(inviter, org, role=invited_role)
        assert Invitation.objects.get().role == invited_role
    else:
        with pytest.raises(PermissionDenied):
            invite(inviter, org, role=invited_role)
        assert not Invitation.objects.exists()


def test_an_unknown_role_is_refused(org, owner):
    with pytest.raises(ValidationError):
        invite(owner, org, role="superhero")


# --- Roles and removal ---------------------------------------------------------------------------------------


def membership_of(user: User, org: Organization) -> Membership:
    return Membership.objects.get(user=user, organization=org)


def test_the_last_owner_cannot_step_down(org, owner):
    with pytest.raises(ValidationError, match="at least one owner"):
        membership_change_role(caller=access(owner, org).caller, membership=membership_of(owner, org),
                                        role=Role.ADMIN)

    assert membership_of(owner, org).role == Role.OWNER
    assert not events("member.role_changed")


def test_an_owner_can_step_down_when_another_owner_remains(org, owner):
    other_owner = MembershipFactory(organization=org, role=Role.OWNER).user

    membership_change_role(caller=access(owner, org).caller, membership=membership_of(owner, org),
                                    role=Role.ADMIN)

    assert membership_of(owner, org).role == Role.ADMIN
    assert membership_of(other_owner, org).role == Role.OWNER
    [event] = events("member.role_changed")
    assert (event.actor_user, event.target_label) == (owner, owner.email)
    assert event.metadata == {"from": "owner", "to": "admin"}


def test_the_last_owner_cannot_be_removed_or_leave(org, owner):
    with pytest.raises(ValidationError, match="at least one owner"):
        membership_remove(caller=access(owner, org).caller, membership=membership_of(owner, org))

    assert membership_of(owner, org).role == Role.OWNER
    assert not events("member.removed")


@pytest.mark.parametrize(
    ("actor_role", "member_role", "new_role", "allowed"),
    [
        (Role.OWNER, Role.DEVELOPER, Role.OWNER, True),
        (Role.OWNER, Role.ADMIN, Role.VIEWER, True),
        (Role.ADMIN, Role.DEVELOPER, Role.ADMIN, True),
        (Role.ADMIN, Role.VIEWER, Role.DEVELOPER, True),
        (Role.ADMIN, Role.DEVELOPER, Role.OWNER, False),  # admins cannot grant owner
        (Role.ADMIN, Role.OWNER, Role.DEVELOPER, False),  # nor take it away
        (Role.DEVELOPER, Role.VIEWER, Role.DEVELOPER, False),
        (Role.VIEWER, Role.VIEWER, Role.ADMIN, False),
    ],
)
def test_who_may_change_which_role(org, owner, actor_role, member_role, new_role, allowed):
    actor = owner if actor_role == Role.OWNER else MembershipFactory(organization=org, role=actor_role).user
    member = MembershipFactory(organization=org, role=member_role)

    if allowed:
        membership_change_role(caller=access(actor, org).caller, membership=member, role=new_role)
        assert Membership.objects.get(pk=member.pk).role == new_role
        assert [e.actor_user for e in events("member.role_changed")] == [actor]
    else:
        with pytest.raises(PermissionDenied):
            membership_change_role(caller=access(actor, org).caller, membership=member, role=new_role)
        assert Membership.objects.get(pk=member.pk).role == member_role
        assert not events("member.role_changed")


@pytest.mark.parametrize(
    ("actor_role", "member_role", "allowed"),
    [
        (Role.OWNER, Role.OWNER, True),
        (Role.OWNER, Role.DEVELOPER, True),
        (Role.ADMIN, Role.DEVELOPER, True),
        (Role.ADMIN, Role.ADMIN, True),
        (Role.ADMIN, Role.OWNER, False),
        (Role.DEVELOPER, Role.VIEWER, False),
    ],
)
def test_who_may_remove_whom(org, owner, actor_role, member_role, allowed):
    actor = owner if actor_role == Role.OWNER else MembershipFactory(organization=org, role=actor_role).user
    member = MembershipFactory(organization=org, role=member_role)

    if allowed:
        membership_remove(caller=access(actor, org).caller, membership=member)
        assert not Membership.objects.filter(pk=member.pk).exists()
        [event] = events("member.removed")
        assert (event.actor_user, event.target_label) == (actor, member.user.email)
    else:
        with pytest.raises(PermissionDenied):
            membership_remove(caller=access(actor, org).caller, membership=member)
        assert Membership.objects.filter(pk=member.pk).exists()


def test_any_member_may_leave(org, owner, viewer):
    membership_remove(caller=access(viewer, org).caller, membership=membership_of(viewer, org))

    assert not Membership.objects.filter(organization=org, user=viewer).exists()
    assert events("member.removed")[0].metadata == {"role": "viewer", "left": True, "revokedCredentials": False,
                                                    "revoked": {"oauthTokens": 0}}


def test_a_membership_of_another_organization_cannot_be_touched(org, owner, other_org):
    stranger = MembershipFactory(organization=other_org, role=Role.DEVELOPER)

    with pytest.raises(Membership.DoesNotExist):
        membership_change_role(caller=access(owner, org).caller, membership=stranger, role=Role.VIEWER)
    with pytest.raises(Membership.DoesNotExist):
        membership_remove(caller=access(owner, org).caller, membership=stranger)

    assert Membership.objects.get(pk=stranger.pk).role == Role.DEVELOPER


# --- Audit rows carry who, what, which and from where --------------------------------------------------------


def _create(org: Organization, owner: User, developer: User) -> tuple[str, str]:
    organization_create(caller=Caller.for_person(owner), name="Fresh", owner=owner)
    return "organization.created", "Fresh"


def _suspend(org: Organization, owner: User, developer: User) -> tuple[str, str]:
    organization_suspend(caller=Caller.system(org, actor=owner))
    return "organization.suspended", org.name


def _invite(org: Organization, owner: User, developer: User) -> tuple[str, str]:
    invite(owner, org, email="new@example.com")
    return "invitation.created", "new@example.com"


def _change_role(org: Organization, owner: User, developer: User) -> tuple[str, str]:
    membership_change_role(caller=access(owner, org).caller, membership=membership_of(developer, org),
                                    role=Role.VIEWER)
    return "member.role_changed", developer.email


def _remove(org: Organization, owner: User, developer: User) -> tuple[str, str]:
    membership_remove(caller=access(owner, org).caller, membership=membership_of(developer, org))
    return "member.removed", developer.email


@pytest.mark.parametrize("change", [_create, _suspend, _invite, _change_role, _remove],
                         ids=["create", "suspend", "invite", "change_role", "remove"])
def test_each_change_is_audited_with_actor_target_and_client_ip(
    org, owner, developer, request_context, change: Callable[..., tuple[str, str]]
):
    action, target_label = change(org, owner, developer)

    event = AuditEvent.objects.filter(action=action).get()
    assert event.actor_user == owner
    assert event.actor_label == owner.email
    assert event.target_label == target_label
    assert event.target_type and event.target_id
    assert event.ip_address == "203.0.113.7"
    assert event.user_agent == "pytest-browser/1.0"


def test_without_a_request_the_audit_row_has_no_ip(org):
    organization_suspend(caller=Caller.system(org))

    assert events("organization.suspended")[0].ip_address is None
