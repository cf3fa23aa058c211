"""Two-factor authentication through the pages, as a person sets it up and signs in with it (contract sections 9
and 11): TOTP from the secret the page shows, recovery codes shown once, organizations that require it, and
staff in the admin."""

from __future__ import annotations

import re
import time
from unittest import mock

import pyotp
import pytest
from allauth.mfa.totp.internal import auth as totp_auth
from django.core import mail
from django.test import Client

from accounts.roles import Role
from audit.models import AuditEvent
from tests.factories import PASSWORD, MembershipFactory, OrganizationFactory

# allauth.mfa sends its events and mails when the request's transaction commits, inside the request.
pytestmark = pytest.mark.django_db(transaction=True)

SECRET = re.compile(r'id="authenticator_secret" class="mono" value="([A-Z2-7]+)"')


@pytest.fixture
def person():
    """Someone with a personal organization, where their account events are audited."""
    return MembershipFactory(organization=OrganizationFactory(is_personal=True), role=Role.OWNER).user


def _sign_in(user) -> tuple[Client, object]:
    client = Client()
    response = client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    return client, response


def _in_a_later_window(seconds: int = 30):
    """TOTP codes are single use: the next code comes from the next 30-second window."""
    later = time.time() + seconds
    return later, mock.patch.object(totp_auth, "time", mock.Mock(time=mock.Mock(return_value=later)))


def _activate_totp(client: Client) -> tuple[str, list[str]]:
    """Set up TOTP from the page (QR code and secret), then read the recovery codes it shows once."""
    asked = client.get("/accounts/2fa/totp/activate/")  # adding a factor asks for the password again first
    assert asked.status_code == 302 and asked["Location"].startswith("/accounts/reauthenticate/")
    assert client.post(asked["Location"], {"password": PASSWORD}).status_code == 302
    page = client.get("/accounts/2fa/totp/activate/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "<svg" in body  # the QR code, drawn by the portal
    secret = SECRET.search(body).group(1)
    response = client.post("/accounts/2fa/totp/activate/", {"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 302 and response["Location"] == "/accounts/2fa/recovery-codes/"
    codes_page = client.get(response["Location"]).content.decode()
    codes = re.findall(r"<li><code>([0-9a-zA-Z-]+)</code></li>", codes_page)
    return secret, codes


def test_totp_set_up_then_sign_in_asks_for_the_code(person) -> None:
    client, _ = _sign_in(person)
    secret, codes = _activate_totp(client)
    assert len(codes) == 10
    assert AuditEvent.objects.filter(action="user.mfa_added", metadata__type="totp").count() == 1
    assert secret not in str(list(AuditEvent.objects.values_list("metadata", flat=True)))
    assert any("authenticator" in m.subject.lower() or "two-factor" in m.body.lower() for m in mail.outbox)
    assert all(secret not in m.body for m in mail.outbox)

    browser, password_step = _sign_in(person)
    assert password_step.status_code == 302 and password_step["Location"] == "/accounts/2fa/authenticate/"
    assert browser.get("/dashboard/")["Location"].startswith("/accounts/login/")  # not signed in yet

    wrong = browser.post("/accounts/2fa/authenticate/", {"code": "000000"})
    assert wrong.status_code == 200 and browser.get("/dashboard/").status_code == 302

    later, clock = _in_a_later_window()
    with clock:
        right = browser.post("/accounts/2fa/authenticate/", {"code": pyotp.TOTP(secret).at(later)})
    assert right.status_code == 302
    assert browser.get("/dashboard/").status_code == 200


def test_the_same_totp_code_works_once(person) -> None:
    client, _ = _sign_in(person)
    secret, _codes = _activate_totp(client)
    later, clock = _in_a_later_window()
    code = pyotp.TOTP(secret).at(later)

    with clock:
        first, _ = _sign_in(person)
        assert first.post("/accounts/2fa/authenticate/", {"code": code}).status_code == 302
        second, _ = _sign_in(person)
        assert second.post("/accounts/2fa/authenticate/", {"code": code}).status_code == 200
    assert second.get("/dashboard/").status_code == 302


def test_code_attempts_are_rate_limited(person) -> None:
    client, _ = _sign_in(person)
    secret, _codes = _activate_totp(client)
    browser, _ = _sign_in(person)
    for _attempt in range(10):
        browser.post("/accounts/2fa/authenticate/", {"code": "000000"})

    later, clock = _in_a_later_window()
    with clock:
        refused = browser.post("/accounts/2fa/authenticate/", {"code": pyotp.TOTP(secret).at(later)})

    assert refused.status_code == 200 and "Too many" in refused.content.decode()
    assert browser.get("/dashboard/").status_code == 302


def test_a_recovery_code_works_once_and_the_codes_are_shown_once(person) -> None:
    client, _ = _sign_in(person)
    _secret, codes = _activate_totp(client)
    download = client.get("/accounts/2fa/recovery-codes/download/")
    assert download.status_code == 200 and download["Content-Type"].startswith("text/plain")
    assert download.content.decode().split() == codes

    again = client.get("/accounts/2fa/recovery-codes/").content.decode()
    assert not any(code in again for code in codes)

    first, _ = _sign_in(person)
    assert first.post("/accounts/2fa/authenticate/", {"code": codes[0]}).status_code == 302
    assert first.get("/dashboard/").status_code == 200
    assert AuditEvent.objects.filter(action="user.recovery_code_used", metadata__remaining=9).exists()

    second, _ = _sign_in(person)
    assert second.post("/accounts/2fa/authenticate/", {"code": codes[0]}).status_code == 200
    assert second.get("/dashboard/").status_code == 302
    assert not any(code in str(list(AuditEvent.objects.values_list("metadata", flat=True))) for code in codes)


def test_an_organization_that_requires_two_factor_refuses_members_without_it(org, owner, developer, login, app,
                                                                              make_key) -> None:
    owner_browser, _ = _sign_in(owner)
    refused = owner_browser.post(f"/orgs/{org.slug}/security/", {"require_two_factor": "on"}, follow=True)
    assert "for yourself first" in refused.content.decode()
    _activate_totp(owner_browser)
    owner_browser.post(f"/orgs/{org.slug}/security/", {"require_two_factor": "on"})
    org.refresh_from_db()
    assert org.require_two_factor
    assert AuditEvent.objects.filter(action="organization.policy_changed", organization=org).exists()

    member = login(developer)
    page = member.get(f"/orgs/{org.slug}/")
    assert page.status_code == 403
    assert "Two-factor authentication required" in page.content.decode()
    assert "/accounts/2fa/" in page.content.decode()
    api = member.get("/api/v1/applications")
    assert api.status_code == 403
    assert api.json() == {"error": "two-factor authentication required", "code": "FORBIDDEN"}

    _key, plaintext = make_key(app, "READ_ONLY")
    assert Client().get("/api/v1/applications", HTTP_X_API_KEY=plaintext).status_code == 200
    assert owner_browser.get(f"/orgs/{org.slug}/").status_code == 200


def test_only_owners_change_the_policy(org, owner, admin_user, login) -> None:
    response = login(admin_user).post(f"/orgs/{org.slug}/security/", {"require_two_factor": "on"})
    assert response.status_code == 403
    org.refresh_from_db()
    assert not org.require_two_factor


def test_staff_need_a_second_factor_for_the_admin(staff, settings) -> None:
    staff.memberships.create(organization=OrganizationFactory(is_personal=True), role=Role.OWNER)
    settings.PORTAL = {**settings.PORTAL, "ADMIN_REQUIRE_MFA": True}
    assert Client().get("/admin/login/")["Location"].startswith("/accounts/login/")

    password_only, _ = _sign_in(staff)
    page = password_only.get("/admin/")
    assert page.status_code == 403 and "Staff need a second factor" in page.content.decode()

    secret, _codes = _activate_totp(password_only)
    browser, _ = _sign_in(staff)
    later, clock = _in_a_later_window()
    with clock:
        browser.post("/accounts/2fa/authenticate/", {"code": pyotp.TOTP(secret).at(later)})
    assert browser.get("/admin/").status_code == 200


def test_without_the_setting_staff_use_the_admin_with_a_password(staff_client, settings) -> None:
    settings.PORTAL = {**settings.PORTAL, "ADMIN_REQUIRE_MFA": False}
    assert staff_client.get("/admin/").status_code == 200
