"""Staff and people's account security in the admin (contract section 9): verified address and second factor
shown, a factor removed for a locked-out person (audited), its secret never shown."""

from __future__ import annotations

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

from accounts.roles import Role
from audit.models import AuditEvent
from tests.factories import MembershipFactory, OrganizationFactory, UserFactory
from tests.helpers import stored_text_containing

pytestmark = pytest.mark.django_db


@pytest.fixture
def locked_out():
    """A person with a TOTP app and recovery codes, who lost their phone."""
    user = MembershipFactory(organization=OrganizationFactory(is_personal=True), role=Role.OWNER,
                             user=UserFactory(email="locked@example.com")).user
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    RecoveryCodes.activate(user)
    return user, secret


def test_the_people_list_shows_verification_and_two_factor(staff_client, locked_out) -> None:
    UserFactory(email="fresh@example.com", verified=False)

    body = staff_client.get("/admin/accounts/user/").content.decode()

    assert "Email verified" in body and "Two-factor" in body
    def cells(email: str) -> list[str]:
        row = body.split(email, 1)[1].split("</tr>", 1)[0]
        return [row.split(f'class="field-{name}">', 1)[1].split("</td>", 1)[0] for name in ("email_verified",
                                                                                           "two_factor")]

    assert all('alt="True"' in cell for cell in cells("locked@example.com"))
    assert all('alt="False"' in cell for cell in cells("fresh@example.com"))


def test_staff_see_that_a_factor_exists_but_never_its_secret(staff_client, locked_out) -> None:
    user, secret = locked_out

    pages = [staff_client.get(f"/admin/accounts/user/{user.pk}/change/"),
             staff_client.get("/admin/mfa/authenticator/"),
             staff_client.get(f"/admin/mfa/authenticator/{user.authenticator_set.get(type='totp').pk}/change/")]

    assert all(page.status_code == 200 for page in pages)
    assert "TOTP Authenticator (added" in pages[0].content.decode()
    assert all(secret not in page.content.decode() for page in pages)
    assert stored_text_containing(secret) == []  # stored encrypted with PORTAL_ENCRYPTION_KEYS


def test_staff_remove_a_factor_for_a_locked_out_person_and_it_is_audited(staff_client, staff, locked_out) -> None:
    user, _secret = locked_out
    totp = Authenticator.objects.get(user=user, type="totp")

    response = staff_client.post("/admin/mfa/authenticator/", {"action": "remove_factors",
                                                                "_selected_action": [totp.pk]})

    assert response.status_code == 302
    assert not Authenticator.objects.filter(user=user).exists()  # the recovery codes went with the last factor
    events = AuditEvent.objects.filter(action="user.mfa_removed", actor_user=staff)
    assert sorted(e.metadata["type"] for e in events) == ["recovery_codes", "totp"]
    assert all(e.organization.is_personal for e in events)


def test_the_admin_shows_no_verification_keys_or_session_keys(staff_client) -> None:
    assert staff_client.get("/admin/account/emailconfirmation/").status_code == 404
    assert staff_client.get("/admin/usersessions/usersession/").status_code == 404
