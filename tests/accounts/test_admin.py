"""Staff managing people and organizations in /admin/: every change goes through the services and is audited."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.test import Client, RequestFactory
from django.urls import reverse

from accounts.models import Invitation, Membership, Organization, User
from accounts.roles import Role
from audit.models import AuditEvent
from tests.factories import PASSWORD, InvitationFactory, MembershipFactory, OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db




def changelist(model: type) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def run_action(client: Client, model: type, action: str, objects: list) -> object:
    return client.post(
        changelist(model), {"action": action, "_selected_action": [o.pk for o in objects]}, follow=True
    )


def test_every_admin_page_of_every_registered_model_opens(staff_client, staff):
    """Including django-oauth-toolkit's own registrations for the swapped OAuth client model."""
    request = RequestFactory().get("/admin/")
    request.user = staff
    broken = []
    for model, model_admin in admin.site._registry.items():
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        response = staff_client.get(reverse(f"{prefix}_changelist"))
        if response.status_code != 200:
            broken.append((prefix, "changelist", response.status_code))
        if model_admin.has_add_permission(request):
            response = staff_client.get(reverse(f"{prefix}_add"))
            if response.status_code != 200:
                broken.append((prefix, "add", response.status_code))
    assert broken == []
    assert len(admin.site._registry) >= 10


# --- Organizations -------------------------------------------------------------------------------------------


def test_staff_suspend_an_organization_with_the_action(staff_client, staff, org):
    response = run_action(staff_client, Organization, "suspend_organizations", [org])

    assert response.status_code == 200
    assert "Suspended 1 organization" in response.content.decode()
    org.refresh_from_db()
    assert org.is_suspended
    [event] = AuditEvent.objects.filter(action="organization.suspended")
    assert (event.actor_user, event.organization) == (staff, org)


def test_staff_reinstate_a_suspended_organization_with_the_action(staff_client, staff, org, other_org):
    run_action(staff_client, Organization, "suspend_organizations", [org])

    run_action(staff_client, Organization, "reinstate_organizations", [org, other_org])

    org.refresh_from_db()
    assert not org.is_suspended
    assert [(e.actor_user, e.organization) for e in AuditEvent.objects.filter(action="organization.reinstated")] == [
        (staff, org)
    ]


def test_suspending_twice_records_one_audit_event(staff_client, org):
    run_action(staff_client, Organization, "suspend_organizations", [org])
    run_action(staff_client, Organization, "suspend_organizations", [org])

    assert AuditEvent.objects.filter(action="organization.suspended").count() == 1


def test_organization_list_shows_suspension_and_filters_by_it(staff_client, org, other_org):
    run_action(staff_client, Organization, "suspend_organizations", [org])

    page = staff_client.get(changelist(Organization), {"suspended": "yes"}).content.decode()

    assert "acme" in page
    assert "globex" not in page


def test_organization_page_lists_its_members(staff_client, org, owner, developer):
    page = staff_client.get(reverse("admin:accounts_organization_change", args=[org.pk])).content.decode()

    assert owner.email in page
    assert developer.email in page


def test_staff_create_an_organization_through_the_service(staff_client, staff):
    owner = UserFactory(email="founder@example.com")

    response = staff_client.post(
        reverse("admin:accounts_organization_add"),
        {"name": "Initech", "slug": "", "owner_email": "Founder@example.com"},
    )

    assert response.status_code == 302
    organization = Organization.objects.get(name="Initech")
    assert organization.slug == "initech"
    assert list(organization.memberships.values_list("user", "role")) == [(owner.pk, Role.OWNER)]
    event = AuditEvent.objects.get(action="organization.created", organization=organization)
    assert event.actor_user == staff


def test_creating_an_organization_for_an_unknown_owner_shows_an_error(staff_client):
    response = staff_client.post(
        reverse("admin:accounts_organization_add"), {"name": "Initech", "slug": "", "owner_email": "nobody@example.com"}
    )

    assert response.status_code == 200
    assert "No user has this email address" in response.content.decode()
    assert not Organization.objects.filter(name="Initech").exists()


def test_an_organization_cannot_be_deleted_in_the_admin(staff_client, org):
    response = staff_client.post(reverse("admin:accounts_organization_delete", args=[org.pk]), {"post": "yes"})

    assert response.status_code == 403
    assert Organization.objects.filter(pk=org.pk).exists()


# --- Members -------------------------------------------------------------------------------------------------


def change_role(client: Client, membership: Membership, role: str):
    return client.post(reverse("admin:accounts_membership_change", args=[membership.pk]), {"role": role})


def test_staff_change_a_role_and_the_change_is_audited(staff_client, staff, org, owner, developer):
    membership = Membership.objects.get(user=developer)

    response = change_role(staff_client, membership, Role.ADMIN)

    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.role == Role.ADMIN
    [event] = AuditEvent.objects.filter(action="member.role_changed")
    assert (event.actor_user, event.target_label, event.metadata) == (
        staff, developer.email, {"from": "developer", "to": "admin"}
    )


def test_staff_cannot_demote_the_last_owner(staff_client, org, owner):
    membership = Membership.objects.get(user=owner)

    response = change_role(staff_client, membership, Role.DEVELOPER)

    assert response.status_code == 200
    assert "at least one owner" in response.content.decode()
    membership.refresh_from_db()
    assert membership.role == Role.OWNER
    assert not AuditEvent.objects.filter(action="member.role_changed").exists()


def test_remove_action_keeps_the_last_owner_and_removes_the_rest(staff_client, org, owner, developer):
    memberships = list(Membership.objects.filter(organization=org))

    response = run_action(staff_client, Membership, "remove_members", memberships)

    page = response.content.decode()
    assert "at least one owner" in page
    assert "Removed 1 member" in page
    assert list(Membership.objects.filter(organization=org).values_list("user", flat=True)) == [owner.pk]
    assert [e.target_label for e in AuditEvent.objects.filter(action="member.removed")] == [developer.email]


def test_members_are_not_added_or_deleted_behind_the_services_back(staff_client, org, owner):
    membership = Membership.objects.get(user=owner)

    assert staff_client.get(reverse("admin:accounts_membership_add")).status_code == 403
    assert staff_client.post(reverse("admin:accounts_membership_delete", args=[membership.pk]),
                             {"post": "yes"}).status_code == 403
    assert "delete_selected" not in staff_client.get(changelist(Membership)).content.decode()


# --- Invitations ---------------------------------------------------------------------------------------------


def test_invitation_pages_never_show_the_token_hash(staff_client, org):
    invitation = InvitationFactory(organization=org)

    pages = [
        staff_client.get(changelist(Invitation)),
        staff_client.get(reverse("admin:accounts_invitation_change", args=[invitation.pk])),
        staff_client.get(changelist(Invitation), {"q": invitation.email}),
    ]

    for response in pages:
        assert response.status_code == 200
        assert invitation.email in response.content.decode()
        assert invitation.token_hash not in response.content.decode()
        assert "token_hash" not in response.content.decode()


@pytest.mark.parametrize(
    ("change", "status"),
    [({}, "pending"), ({"revoked": True}, "revoked"), ({"accepted": True}, "accepted"), ({"expired": True}, "expired")],
)
def test_invitation_list_shows_and_filters_by_status(staff_client, org, change, status):
    from datetime import timedelta

    from django.utils import timezone

    now = timezone.now()
    invitation = InvitationFactory(
        organization=org,
        revoked_at=now if change.get("revoked") else None,
        accepted_at=now if change.get("accepted") else None,
        expires_at=now - timedelta(days=1) if change.get("expired") else now + timedelta(days=1),
    )
    decoy = InvitationFactory(organization=org, revoked_at=None if status == "revoked" else now)

    page = staff_client.get(changelist(Invitation), {"status": status}).content.decode()

    assert invitation.email in page
    assert decoy.email not in page


def test_staff_invite_someone_and_the_token_goes_only_by_mail(
    staff_client, staff, org, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            reverse("admin:accounts_invitation_add"),
            {"organization": org.pk, "email": "new@example.com", "role": Role.ADMIN},
            follow=True,
        )

    assert response.status_code == 200
    invitation = Invitation.objects.get()
    assert (invitation.organization, invitation.role, invitation.invited_by) == (org, Role.ADMIN, staff)
    assert invitation.token_hash not in response.content.decode()
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["new@example.com"]
    assert AuditEvent.objects.get(action="invitation.created").actor_user == staff


def test_inviting_an_existing_member_shows_an_error(staff_client, org, developer):
    response = staff_client.post(
        reverse("admin:accounts_invitation_add"), {"organization": org.pk, "email": developer.email, "role": "viewer"}
    )

    assert response.status_code == 200
    assert "already a member" in response.content.decode()
    assert not Invitation.objects.exists()


def test_staff_revoke_pending_invitations_with_the_action(staff_client, staff, org):
    invitation = InvitationFactory(organization=org)

    run_action(staff_client, Invitation, "revoke_invitations", [invitation])

    invitation.refresh_from_db()
    assert invitation.status == "revoked"
    assert AuditEvent.objects.get(action="invitation.revoked").actor_user == staff


# --- Users ---------------------------------------------------------------------------------------------------


def test_staff_create_a_user_with_email_and_password(staff_client):
    response = staff_client.post(
        reverse("admin:accounts_user_add"),
        {"email": "New.Person@Example.com", "usable_password": "true", "password1": PASSWORD, "password2": PASSWORD},
    )

    assert response.status_code == 302
    user = User.objects.get(email="new.person@example.com")
    assert user.check_password(PASSWORD)
    assert not user.is_staff


def test_creating_a_user_needs_matching_passwords(staff_client):
    response = staff_client.post(
        reverse("admin:accounts_user_add"),
        {"email": "new@example.com", "usable_password": "true", "password1": PASSWORD, "password2": PASSWORD + "x"},
    )

    assert response.status_code == 200
    assert not User.objects.filter(email="new@example.com").exists()


def test_an_email_that_exists_in_another_case_is_refused(staff_client):
    UserFactory(email="taken@example.com")

    response = staff_client.post(
        reverse("admin:accounts_user_add"),
        {"email": "TAKEN@example.com", "usable_password": "true", "password1": PASSWORD, "password2": PASSWORD},
    )

    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    assert User.objects.filter(email__iexact="taken@example.com").count() == 1


def test_user_page_shows_their_organizations_and_no_username(staff_client, org, developer):
    page = staff_client.get(reverse("admin:accounts_user_change", args=[developer.pk])).content.decode()

    assert developer.email in page
    assert org.name in page
    assert 'name="username"' not in page


def test_user_search_finds_by_email(staff_client):
    UserFactory(email="findme@example.com")
    UserFactory(email="other@example.com")

    page = staff_client.get(changelist(User), {"q": "findme"}).content.decode()

    assert "findme@example.com" in page
    assert "other@example.com" not in page


def test_non_staff_members_cannot_open_the_admin(login, owner):
    response = login(owner).get(changelist(Organization))

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_membership_list_can_be_searched_by_organization(staff_client):
    hooli = OrganizationFactory(name="Hooli", slug="hooli")
    MembershipFactory(organization=hooli, user=UserFactory(email="a@hooli.com"))
    MembershipFactory(user=UserFactory(email="b@elsewhere.com"))

    page = staff_client.get(changelist(Membership), {"q": "hooli"}).content.decode()

    assert "a@hooli.com" in page
    assert "b@elsewhere.com" not in page
