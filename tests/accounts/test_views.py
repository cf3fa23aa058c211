"""The dashboard pages of people, organizations, members and invitations, used as a person would."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.invitations.services import INVITATION_HASH_PURPOSE
from accounts.models import Invitation, Membership, Organization, User
from accounts.roles import Role
from audit.models import AuditEvent
from portal.hashing import keyed_hash, new_token
from tests.factories import PASSWORD, InvitationFactory, MembershipFactory, UserFactory
from tests.helpers import committed

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-much-longer-passphrase-42"


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def _invite(org, *, email: str = "new@example.com", role: str = Role.DEVELOPER, **fields) -> tuple[Invitation, str]:
    """A pending invitation and the token that would have gone by e-mail."""
    token = new_token()
    invitation = InvitationFactory(
        organization=org, email=email, role=role,
        token_hash=keyed_hash(token, purpose=INVITATION_HASH_PURPOSE), **fields,
    )
    return invitation, token


# --- Sign-up, sign-in, sign-out, password -------------------------------------------------------------


def test_signup_creates_user_and_personal_org_they_own_signs_in_and_mails_the_link() -> None:
    client = Client()
    with committed():
        response = client.post(reverse("signup"), {
            "email": "Ada@Example.com", "full_name": "Ada Lovelace", "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
        }, follow=True)

    # Sign-up lands on the overview itself; its banner says a link was sent, with the button to send it again.
    assert response.redirect_chain == [(reverse("dashboard"), 302)]
    page = response.content.decode()
    assert "Verify your email address." in page and "Send the link again" in page
    assert "Confirmation email sent to ada@example.com." in page
    user = User.objects.get(email="ada@example.com")
    membership = Membership.objects.select_related("organization").get(user=user)
    assert membership.role == Role.OWNER
    assert membership.organization.is_personal
    assert response.context["user"] == user
    assert [m.to for m in mail.outbox] == [["ada@example.com"]]
    dashboard = client.get(reverse("dashboard"))
    assert "Ada Lovelace&#x27;s organization" in dashboard.content.decode()


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"password1": NEW_PASSWORD, "password2": NEW_PASSWORD + "x"}, "password2", "same password each time"),
    ({"password1": "short", "password2": "short"}, "password1", "too short"),
    ({"password1": "password1234", "password2": "password1234"}, "password1", "too common"),
    ({"password1": "1234567890123", "password2": "1234567890123"}, "password1", "entirely numeric"),
    ({"password1": "ada@example.com1", "password2": "ada@example.com1"}, "password1", "too similar"),
    ({"email": "not-an-email", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}, "email", "valid email"),
])
def test_signup_refuses_bad_input_with_visible_errors(data: dict, field: str, message: str) -> None:
    response = Client().post(reverse("signup"), {"email": "ada@example.com", **data})

    assert response.status_code == 200
    assert any(message in error for error in response.context["form"].errors[field])
    assert message in response.content.decode()
    assert not User.objects.exists()


def test_signup_with_a_taken_email_answers_as_a_new_one_signs_nobody_in_and_mails_the_owner(owner: User) -> None:
    new = Client().post(reverse("signup"), {
        "email": "fresh@example.com", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD,
    })
    mail.outbox.clear()
    browser = Client()
    with committed():
        taken = browser.post(reverse("signup"), {
            "email": owner.email.upper(), "password1": NEW_PASSWORD, "password2": NEW_PASSWORD,
        })

    assert (taken.status_code, taken["Location"]) == (new.status_code, new["Location"]) == (302, reverse("dashboard"))
    page = browser.get(taken["Location"], follow=True)  # nobody signed in: the sign-in page, with the same message
    assert page.status_code == 200
    assert f"confirmation email sent to {owner.email.lower()}." in page.content.decode().lower()
    assert "_auth_user_id" not in browser.session
    assert User.objects.filter(email__iexact=owner.email).count() == 1
    owner.refresh_from_db()
    assert owner.check_password(PASSWORD)
    assert [m.to for m in mail.outbox] == [[owner.email]]
    assert "already" in mail.outbox[0].body and NEW_PASSWORD not in mail.outbox[0].body


def test_login_with_email_renews_the_session_and_reaches_the_dashboard(owner: User, org: Organization) -> None:
    client = Client()
    anonymous_session_key = client.session.session_key

    response = client.post(reverse("login"), {"username": owner.email.upper(), "password": PASSWORD}, follow=True)

    assert response.redirect_chain[-1][0] == reverse("dashboard")
    assert org.name in response.content.decode()
    assert client.cookies["sessionid"].value != anonymous_session_key
    assert AuditEvent.objects.filter(action="user.signed_in", actor_user=owner).exists()


def test_login_page_labels_the_field_email() -> None:
    response = Client().get(reverse("login"))

    assert response.status_code == 200
    assert '<label for="id_login">Email</label>' in response.content.decode()
    assert 'type="email"' in response.content.decode()


def test_failed_login_is_audited_with_the_email_but_never_the_password(owner: User) -> None:
    wrong = "Wrong-Password-That-Must-Not-Leak"
    response = Client().post(reverse("login"), {"username": owner.email, "password": wrong})

    assert response.status_code == 200
    assert "The email address and/or password you specified are not correct." in response.content.decode()
    event = AuditEvent.objects.get(action="user.sign_in_failed")
    assert event.metadata == {"email": owner.email}
    assert event.target_label == owner.email
    stored = " ".join(str(value) for value in AuditEvent.objects.values().get(pk=event.pk).values())
    assert wrong not in stored


def test_logout_is_post_only_and_ends_the_session(owner: User, login) -> None:
    client = login(owner)

    confirm = client.get(reverse("logout"))  # a page that asks, with a POST form
    assert confirm.status_code == 200 and 'method="post"' in confirm.content.decode()
    assert client.get(reverse("dashboard")).status_code == 200

    response = client.post(reverse("logout"))

    assert response.status_code == 302
    assert response["Location"] == reverse("login")
    assert client.get(reverse("dashboard"))["Location"].startswith(reverse("login"))


def test_password_change_keeps_you_signed_in_and_the_new_password_works(owner: User, login) -> None:
    client = login(owner)

    response = client.post(reverse("password-change"), {
        "old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD,
    }, follow=True)

    assert response.redirect_chain[-1][0] == reverse("dashboard")
    assert "Password successfully changed." in _messages(response)
    owner.refresh_from_db()
    assert owner.check_password(NEW_PASSWORD)


def test_password_change_with_a_wrong_old_password_is_refused(owner: User, login) -> None:
    response = login(owner).post(reverse("password-change"), {
        "old_password": "nope", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD,
    })

    assert response.status_code == 200
    assert "Please type your current password." in response.content.decode()
    owner.refresh_from_db()
    assert owner.check_password(PASSWORD)


@pytest.mark.parametrize("path", ["/dashboard/", "/orgs/new/", "/orgs/acme/", "/orgs/acme/members/",
                                  "/orgs/acme/audit/", "/accounts/password/"])
def test_dashboard_pages_send_anonymous_visitors_to_sign_in(org: Organization, path: str) -> None:
    response = Client().get(path)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={path}"


# --- Dashboard and organizations -----------------------------------------------------------------------


def test_dashboard_shows_the_organization_last_visited(owner: User, org: Organization, other_org, login) -> None:
    MembershipFactory(organization=other_org, user=owner, role=Role.VIEWER)
    client = login(owner)

    client.get(reverse("org-overview", args=[other_org.slug]))
    response = client.get(reverse("dashboard"))

    assert response.context["access"].organization == other_org
    assert "Viewer" in response.content.decode()


def test_dashboard_falls_back_to_the_first_organization_after_leaving(owner: User, org, other_org, login) -> None:
    membership = MembershipFactory(organization=other_org, user=owner, role=Role.VIEWER)
    client = login(owner)
    client.get(reverse("org-overview", args=[other_org.slug]))
    membership.delete()

    response = client.get(reverse("dashboard"))

    assert response.context["access"].organization == org


def test_dashboard_without_organizations_offers_to_create_one(login) -> None:
    response = login(UserFactory()).get(reverse("dashboard"))

    assert response.status_code == 200
    assert "You are not in any organization" in response.content.decode()
    assert reverse("org-create") in response.content.decode()


def test_overview_shows_role_counts_and_recent_activity(owner: User, developer, org: Organization, login) -> None:
    _invite(org)
    _invite(org, email="gone@example.com", revoked_at=timezone.now())
    AuditEvent.objects.create(organization=org, action="app.created", actor_label="someone@example.com")

    response = login(owner).get(reverse("org-overview", args=[org.slug]))

    body = response.content.decode()
    assert response.status_code == 200
    assert response.context["member_count"] == 2
    assert response.context["pending_invitation_count"] == 1
    assert "Owner" in body and "Acme" in body
    assert "app.created" in body
    assert f"/orgs/{org.slug}/apps/" in body


def test_overview_of_a_suspended_organization_shows_a_banner(owner: User, org: Organization, login) -> None:
    Organization.objects.filter(pk=org.pk).update(suspended_at=timezone.now())

    response = login(owner).get(reverse("org-overview", args=[org.slug]))

    assert "This organization is suspended" in response.content.decode()


def test_header_switcher_lists_every_organization_of_the_user(owner: User, org, other_org, login) -> None:
    MembershipFactory(organization=other_org, user=owner)

    body = login(owner).get(reverse("dashboard")).content.decode()

    assert reverse("org-overview", args=[org.slug]) in body
    assert reverse("org-overview", args=[other_org.slug]) in body


def test_creating_an_organization_makes_the_creator_its_owner(developer: User, login) -> None:
    response = login(developer).post(reverse("org-create"), {"name": "Initech", "slug": "initech"}, follow=True)

    assert response.redirect_chain[-1][0] == reverse("org-overview", args=["initech"])
    assert Membership.objects.get(organization__slug="initech", user=developer).role == Role.OWNER
    assert "Initech has been created" in " ".join(_messages(response))


def test_creating_an_organization_with_a_taken_slug_shows_the_error(developer: User, org, login) -> None:
    response = login(developer).post(reverse("org-create"), {"name": "Another", "slug": org.slug})

    assert response.status_code == 200
    assert "is taken" in response.content.decode()
    assert not Organization.objects.filter(name="Another").exists()


# --- Members: who sees and does what --------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.OWNER, Role.ADMIN, Role.DEVELOPER, Role.VIEWER])
def test_every_member_sees_the_member_list(org: Organization, owner: User, login, role: str) -> None:
    user = owner if role == Role.OWNER else MembershipFactory(organization=org, role=role).user
    invitation, _ = _invite(org, email="pending@example.com")

    response = login(user).get(reverse("org-members", args=[org.slug]))

    body = response.content.decode()
    assert response.status_code == 200
    assert owner.email in body and "pending@example.com" in body
    manager = role in (Role.OWNER, Role.ADMIN)
    assert ("Send invitation" in body) is manager
    assert (reverse("invitation-revoke", args=[org.slug, invitation.pk]) in body) is manager
    assert (reverse("member-role", args=[org.slug, owner.memberships.get().pk]) in body) is (role == Role.OWNER)


def test_admins_are_not_offered_the_owner_role(admin_user: User, developer: User, org, login) -> None:
    body = login(admin_user).get(reverse("org-members", args=[org.slug])).content.decode()

    # The role select of a member's row (the filter above the list offers every role, to find owners by).
    offered = re.search(r'<select id="role-\d+" name="role">(.*?)</select>', body, re.S).group(1)
    assert 'value="admin"' in offered
    assert 'value="owner"' not in offered


def _write_requests(org: Organization, target: Membership, invitation: Invitation) -> dict[str, tuple[str, dict]]:
    return {
        "invite": (reverse("invitation-create", args=[org.slug]), {"email": "x@example.com", "role": Role.VIEWER}),
        "role": (reverse("member-role", args=[org.slug, target.pk]), {"role": Role.VIEWER}),
        "remove": (reverse("member-remove", args=[org.slug, target.pk]), {}),
        "revoke": (reverse("invitation-revoke", args=[org.slug, invitation.pk]), {}),
    }


@pytest.mark.parametrize("role", [Role.VIEWER, Role.DEVELOPER])
@pytest.mark.parametrize("action", ["invite", "role", "remove", "revoke"])
def test_viewers_and_developers_cannot_manage_members(org, owner, login, role: str, action: str) -> None:
    actor = MembershipFactory(organization=org, role=role).user
    target = MembershipFactory(organization=org, role=Role.DEVELOPER)
    invitation, _ = _invite(org)
    path, data = _write_requests(org, target, invitation)[action]

    response = login(actor).post(path, data)

    assert response.status_code == 403
    assert "Not allowed" in response.content.decode()
    target.refresh_from_db()
    invitation.refresh_from_db()
    assert target.role == Role.DEVELOPER
    assert invitation.is_pending
    assert not Invitation.objects.filter(email="x@example.com").exists()


@pytest.mark.parametrize(("actor_role", "new_role", "allowed"), [
    (Role.ADMIN, Role.OWNER, False),
    (Role.ADMIN, Role.ADMIN, True),
    (Role.ADMIN, Role.VIEWER, True),
    (Role.OWNER, Role.OWNER, True),
    (Role.OWNER, Role.ADMIN, True),
])
def test_who_may_give_which_role(org, owner, login, actor_role: str, new_role: str, allowed: bool) -> None:
    actor = owner if actor_role == Role.OWNER else MembershipFactory(organization=org, role=actor_role).user
    target = MembershipFactory(organization=org, role=Role.DEVELOPER)

    response = login(actor).post(reverse("member-role", args=[org.slug, target.pk]), {"role": new_role})

    target.refresh_from_db()
    if allowed:
        assert response.status_code == 302
        assert target.role == new_role
    else:
        assert response.status_code == 403
        assert target.role == Role.DEVELOPER


def test_admin_cannot_demote_or_remove_an_owner(org, owner, admin_user, login) -> None:
    client = login(admin_user)
    membership = owner.memberships.get()

    assert client.post(reverse("member-role", args=[org.slug, membership.pk]), {"role": Role.VIEWER}).status_code == 403
    assert client.post(reverse("member-remove", args=[org.slug, membership.pk])).status_code == 403
    membership.refresh_from_db()
    assert membership.role == Role.OWNER


def test_admin_cannot_invite_an_owner(org, admin_user, login) -> None:
    response = login(admin_user).post(reverse("invitation-create", args=[org.slug]),
                                      {"email": "boss@example.com", "role": Role.OWNER})

    assert response.status_code == 403
    assert not Invitation.objects.filter(email="boss@example.com").exists()


def test_owner_removes_a_member(org, owner, developer, login) -> None:
    membership = developer.memberships.get()

    response = login(owner).post(reverse("member-remove", args=[org.slug, membership.pk]), follow=True)

    assert f"{developer.email} has been removed." in _messages(response)
    assert not Membership.objects.filter(pk=membership.pk).exists()
    assert AuditEvent.objects.filter(action="member.removed", organization=org, target_label=developer.email).exists()


def test_a_member_may_leave(org, owner, viewer, login) -> None:
    client = login(viewer)

    response = client.post(reverse("member-remove", args=[org.slug, viewer.memberships.get().pk]), follow=True)

    assert response.redirect_chain[-1][0] == reverse("dashboard")
    assert "You have left Acme." in _messages(response)
    assert not Membership.objects.filter(organization=org, user=viewer).exists()
    assert client.get(reverse("org-overview", args=[org.slug])).status_code == 404


@pytest.mark.parametrize("action", ["demote", "leave"])
def test_the_last_owner_cannot_demote_or_remove_themselves(org, owner, admin_user, login, action: str) -> None:
    membership = owner.memberships.get()
    if action == "demote":
        path, data = reverse("member-role", args=[org.slug, membership.pk]), {"role": Role.ADMIN}
    else:
        path, data = reverse("member-remove", args=[org.slug, membership.pk]), {}

    response = login(owner).post(path, data, follow=True)

    assert response.redirect_chain[-1][0] == reverse("org-members", args=[org.slug])
    assert any("at least one owner" in message for message in _messages(response))
    assert "at least one owner" in response.content.decode()
    membership.refresh_from_db()
    assert membership.role == Role.OWNER


def test_an_owner_may_step_down_when_another_owner_remains_once_confirmed(org, owner, login) -> None:
    MembershipFactory(organization=org, role=Role.OWNER)
    membership = owner.memberships.get()
    client = login(owner)
    url = reverse("member-role", args=[org.slug, membership.pk])

    asked = client.post(url, {"role": Role.ADMIN})

    assert asked.status_code == 200
    body = asked.content.decode()
    assert "Make yourself admin?" in body and 'name="confirm" value="yes"' in body and "csrfmiddlewaretoken" in body
    membership.refresh_from_db()
    assert membership.role == Role.OWNER
    assert not AuditEvent.objects.filter(action="member.role_changed").exists()

    response = client.post(url, {"role": Role.ADMIN, "confirm": "yes"}, follow=True)

    assert response.redirect_chain[-1][0] == reverse("org-members", args=[org.slug])
    assert f"{owner.email} is now admin." in _messages(response)
    membership.refresh_from_db()
    assert membership.role == Role.ADMIN
    event = AuditEvent.objects.get(action="member.role_changed")
    assert event.actor_user == owner and event.metadata == {"from": "owner", "to": "admin"}


def test_an_owner_demoting_another_owner_is_asked_first_also_on_a_get(org, owner, login) -> None:
    other = MembershipFactory(organization=org, role=Role.OWNER)
    client = login(owner)
    url = reverse("member-role", args=[org.slug, other.pk])

    page = client.get(url, {"role": Role.DEVELOPER})
    assert page.status_code == 200
    assert f"Make {other.user.email} developer?" in page.content.decode()
    chooser = client.get(url)
    assert chooser.status_code == 200 and '<select id="id_role" name="role">' in chooser.content.decode()
    other.refresh_from_db()
    assert other.role == Role.OWNER

    client.post(url, {"role": Role.DEVELOPER, "confirm": "yes"})
    other.refresh_from_db()
    assert other.role == Role.DEVELOPER


def test_a_role_change_below_owner_needs_no_confirmation(org, owner, developer, login) -> None:
    membership = developer.memberships.get()
    response = login(owner).post(reverse("member-role", args=[org.slug, membership.pk]), {"role": Role.VIEWER})
    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.role == Role.VIEWER


@pytest.mark.parametrize("method", ["get", "post"])
def test_the_last_owner_is_told_why_their_role_cannot_change(org, owner, login, method) -> None:
    membership = owner.memberships.get()
    url = reverse("member-role", args=[org.slug, membership.pk])
    client = login(owner)
    if method == "get":
        body = client.get(url, {"role": Role.ADMIN}).content.decode()
        assert "the last owner" in body and 'name="confirm"' not in body
    response = client.post(url, {"role": Role.ADMIN, "confirm": "yes"}, follow=True)
    assert any("at least one owner" in message for message in _messages(response))
    membership.refresh_from_db()
    assert membership.role == Role.OWNER


def test_removing_a_member_asks_first(org, owner, developer, login) -> None:
    membership = developer.memberships.get()
    url = reverse("member-remove", args=[org.slug, membership.pk])
    client = login(owner)

    page = client.get(url)

    assert page.status_code == 200
    body = page.content.decode()
    assert f"Remove {developer.email}?" in body and 'method="post"' in body and "csrfmiddlewaretoken" in body
    assert Membership.objects.filter(pk=membership.pk).exists()
    client.post(url)
    assert not Membership.objects.filter(pk=membership.pk).exists()


def test_leaving_asks_first_from_the_overview(org, owner, viewer, login) -> None:
    membership = viewer.memberships.get()
    client = login(viewer)
    url = reverse("member-remove", args=[org.slug, membership.pk])
    overview = client.get(reverse("org-overview", args=[org.slug])).content.decode()
    assert url in overview and "Leave organization" in overview

    page = client.get(url)

    assert page.status_code == 200 and "Leave Acme?" in page.content.decode()
    assert Membership.objects.filter(pk=membership.pk).exists()
    client.post(url)
    assert not Membership.objects.filter(pk=membership.pk).exists()


def test_the_last_owner_is_not_offered_to_leave(org, owner, login) -> None:
    url = reverse("member-remove", args=[org.slug, owner.memberships.get().pk])
    body = login(owner).get(url).content.decode()
    assert "the last owner" in body and f'action="{url}"' not in body


def test_owner_revokes_an_invitation(org, owner, login) -> None:
    invitation, token = _invite(org)

    response = login(owner).post(reverse("invitation-revoke", args=[org.slug, invitation.pk]), follow=True)

    assert f"The invitation to {invitation.email} has been revoked." in _messages(response)
    invitation.refresh_from_db()
    assert invitation.status == "revoked"
    assert Client().get(reverse("invitation-accept", args=[token])).status_code == 410


def test_an_invalid_invitation_form_shows_the_error(org, owner, login) -> None:
    response = login(owner).post(reverse("invitation-create", args=[org.slug]), {"email": "nope", "role": "viewer"})

    assert response.status_code == 400
    assert "Enter a valid email address." in response.content.decode()
    assert not Invitation.objects.exists()


def test_inviting_an_existing_member_is_refused_on_the_form(org, owner, developer, login) -> None:
    response = login(owner).post(reverse("invitation-create", args=[org.slug]),
                                 {"email": developer.email, "role": "viewer"})

    assert response.status_code == 400
    assert "already a member" in response.content.decode()


# --- Tenant isolation ------------------------------------------------------------------------------------

ORG_PAGES = [
    ("get", "org-overview", None),
    ("get", "org-members", None),
    ("get", "org-audit", None),
    ("post", "member-role", "membership"),
    ("post", "member-remove", "membership"),
    ("post", "invitation-create", None),
    ("post", "invitation-revoke", "invitation"),
]


@pytest.mark.parametrize(("method", "name", "extra"), ORG_PAGES)
def test_outsiders_get_404_for_every_page_and_action_of_an_organization(
    org, owner, outsider, login, method: str, name: str, extra: str | None
) -> None:
    invitation, _ = _invite(org)
    ids = {"membership": owner.memberships.get().pk, "invitation": invitation.pk}
    args = [org.slug] + ([ids[extra]] if extra else [])
    data = {"role": Role.VIEWER, "email": "x@example.com"} if method == "post" else {}

    response = getattr(login(outsider), method)(reverse(name, args=args), data)

    assert response.status_code == 404
    assert "Page not found" in response.content.decode()
    assert Membership.objects.filter(organization=org, user=owner, role=Role.OWNER).exists()
    assert Invitation.objects.get(pk=invitation.pk).is_pending
    assert not Invitation.objects.filter(email="x@example.com").exists()


def test_unknown_organization_is_a_404_like_a_foreign_one(outsider, login) -> None:
    assert login(outsider).get(reverse("org-overview", args=["no-such-org"])).status_code == 404


@pytest.mark.parametrize("name", ["member-role", "member-remove"])
def test_a_membership_of_another_organization_is_a_404(org, other_org, owner, outsider, login, name: str) -> None:
    foreign = outsider.memberships.get(organization=other_org)

    response = login(owner).post(reverse(name, args=[org.slug, foreign.pk]), {"role": Role.VIEWER})

    assert response.status_code == 404
    foreign.refresh_from_db()
    assert foreign.role == Role.OWNER


def test_an_invitation_of_another_organization_is_a_404(org, other_org, owner, login) -> None:
    foreign, _ = _invite(other_org)

    response = login(owner).post(reverse("invitation-revoke", args=[org.slug, foreign.pk]))

    assert response.status_code == 404
    assert Invitation.objects.get(pk=foreign.pk).is_pending


# --- Invitations end to end ------------------------------------------------------------------------------


def test_invitation_flow_from_email_to_membership(
    org, owner, login, django_capture_on_commit_callbacks
) -> None:
    invitee = UserFactory(email="grace@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        response = login(owner).post(reverse("invitation-create", args=[org.slug]),
                                     {"email": "Grace@Example.com", "role": Role.ADMIN}, follow=True)
    assert "Invitation sent to grace@example.com." in _messages(response)

    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["grace@example.com"]
    match = re.search(r"http://localhost:8000(/invitations/[^/\s]+/)", mail.outbox[0].body)
    assert match, mail.outbox[0].body
    link = match.group(1)

    client = login(invitee)
    page = client.get(link)
    body = page.content.decode()
    assert page.status_code == 200
    assert "Join Acme" in body and owner.email in body and "admin" in body
    assert "Accept invitation" in body

    response = client.post(link, follow=True)
    assert response.redirect_chain[-1][0] == reverse("org-overview", args=[org.slug])
    assert "You have joined Acme." in _messages(response)
    assert Membership.objects.get(organization=org, user=invitee).role == Role.ADMIN

    # Single use: the link is spent.
    reused = client.get(link)
    assert reused.status_code == 410
    assert "already been used" in reused.content.decode()
    assert client.post(link).status_code == 410


@pytest.mark.parametrize(("fields", "message"), [
    ({"expires_at": timezone.now() - timedelta(minutes=1)}, "has expired"),
    ({"revoked_at": timezone.now()}, "has been revoked"),
    ({"accepted_at": timezone.now()}, "already been used"),
])
def test_spent_invitations_are_refused(org, login, fields: dict, message: str) -> None:
    invitee = UserFactory(email="new@example.com")
    _invitation, token = _invite(org, **fields)
    client = login(invitee)

    page = client.get(reverse("invitation-accept", args=[token]))
    posted = client.post(reverse("invitation-accept", args=[token]))

    assert page.status_code == posted.status_code == 410
    assert message in page.content.decode()
    assert not Membership.objects.filter(organization=org, user=invitee).exists()


def test_an_unknown_invitation_token_is_a_404() -> None:
    response = Client().get(reverse("invitation-accept", args=["not-a-real-token"]))

    assert response.status_code == 404
    assert "This invitation link is not valid." in response.content.decode()


def test_an_invitation_for_another_address_cannot_be_accepted(org, developer, outsider, login) -> None:
    _invitation, token = _invite(org, email="someone-else@example.com")
    client = login(outsider)
    link = reverse("invitation-accept", args=[token])

    page = client.get(link)
    assert "this invitation was sent to someone-else@example.com" in page.content.decode()
    assert "Accept invitation" not in page.content.decode()

    response = client.post(link)
    assert response.status_code == 400
    assert "Sign in with that address" in response.content.decode()
    assert not Membership.objects.filter(organization=org, user=outsider).exists()


def test_signing_up_through_an_invitation_creates_the_account_and_the_membership(org, owner) -> None:
    _invitation, token = _invite(org, email="newbie@example.com", role=Role.VIEWER)
    client = Client()
    link = reverse("invitation-accept", args=[token])

    page = client.get(link)
    assert page.status_code == 200
    assert 'value="newbie@example.com"' in page.content.decode()
    assert "Create account and join" in page.content.decode()

    # A tampered email is ignored: the invitation decides the address.
    response = client.post(link, {"email": "attacker@example.com", "full_name": "New Bie",
                                  "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}, follow=True)

    assert response.redirect_chain[-1][0] == reverse("org-overview", args=[org.slug])
    user = User.objects.get(email="newbie@example.com")
    assert not User.objects.filter(email="attacker@example.com").exists()
    assert Membership.objects.get(organization=org, user=user).role == Role.VIEWER
    assert Membership.objects.filter(user=user, role=Role.OWNER, organization__is_personal=True).exists()
    assert response.context["user"] == user


def test_signing_up_through_an_invitation_with_a_weak_password_changes_nothing(org, owner) -> None:
    invitation, token = _invite(org, email="newbie@example.com")

    response = Client().post(reverse("invitation-accept", args=[token]),
                             {"password1": "short", "password2": "short"})

    assert response.status_code == 200
    assert "too short" in response.content.decode()
    assert not User.objects.filter(email="newbie@example.com").exists()
    invitation.refresh_from_db()
    assert invitation.is_pending


def test_an_anonymous_visitor_can_sign_in_to_accept(org, owner) -> None:
    invitee = UserFactory(email="new@example.com")
    _invitation, token = _invite(org)
    link = reverse("invitation-accept", args=[token])
    client = Client()

    page = client.get(link)
    assert f"{reverse('login')}?next={link}" in page.content.decode()

    response = client.post(f"{reverse('login')}?next={link}", {"username": invitee.email, "password": PASSWORD,
                                                                "next": link})
    assert response["Location"] == link
    client.post(link)
    assert Membership.objects.filter(organization=org, user=invitee).exists()


# --- Constant number of queries ------------------------------------------------------------------------


def _count_queries(client: Client, path: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200
    return len(queries)


def test_members_page_runs_a_constant_number_of_queries(org, owner, login) -> None:
    client = login(owner)
    path = reverse("org-members", args=[org.slug])
    MembershipFactory.create_batch(2, organization=org)
    InvitationFactory.create_batch(2, organization=org, invited_by=owner)
    few = _count_queries(client, path)

    MembershipFactory.create_batch(18, organization=org)
    InvitationFactory.create_batch(18, organization=org, invited_by=UserFactory())
    many = _count_queries(client, path)

    assert few == many
    assert many <= 10


def test_overview_runs_a_constant_number_of_queries(org, owner, login) -> None:
    client = login(owner)
    path = reverse("org-overview", args=[org.slug])
    few = _count_queries(client, path)

    MembershipFactory.create_batch(10, organization=org)
    for n in range(10):
        AuditEvent.objects.create(organization=org, action=f"thing.{n}", actor_label="a@example.com")

    assert _count_queries(client, path) == few
