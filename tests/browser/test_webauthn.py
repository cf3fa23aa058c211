"""Security keys and passkeys in a real browser: Chromium's virtual authenticator (DevTools
``WebAuthn.addVirtualAuthenticator``) registers a key through allauth.mfa's pages and scripts (served from
/static/), then signs in with it as a second factor and as a passkey alone."""

from __future__ import annotations

import re

import pytest
from allauth.mfa.models import Authenticator
from playwright.sync_api import expect

from accounts.roles import Role
from audit.models import AuditEvent
from tests.factories import PASSWORD, MembershipFactory, OrganizationFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _virtual_authenticator(page) -> None:
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True, "hasUserVerification": True,
        "isUserVerified": True, "automaticPresenceSimulation": True,
    }})


def _sign_in_with_password(page, email: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()


def _sign_out(page) -> None:
    page.goto("/accounts/logout/")
    page.get_by_role("button", name="Sign Out").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))


def test_a_passkey_is_added_then_signs_in_as_a_second_factor_and_alone(page, live_server) -> None:
    person = MembershipFactory(organization=OrganizationFactory(is_personal=True, name="Ada's organization"),
                               role=Role.OWNER).user
    scripts: list[str] = []
    page.on("request", lambda request: scripts.append(request.url) if request.resource_type == "script" else None)
    _virtual_authenticator(page)
    _sign_in_with_password(page, person.email)
    expect(page).to_have_url(re.compile(r"/dashboard/$"))

    page.goto("/accounts/2fa/webauthn/add/")
    expect(page).to_have_url(re.compile(r"/accounts/reauthenticate/"))  # adding a factor asks for the password
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Confirm").click()
    expect(page).to_have_url(re.compile(r"/accounts/2fa/webauthn/add/"))
    page.get_by_label("Name").fill("Laptop passkey")
    page.get_by_label("Passwordless").check()
    page.get_by_role("button", name="Add").click()
    expect(page.get_by_role("heading", name="Recovery codes")).to_be_visible()  # the first factor brings them

    key = Authenticator.objects.get(user=person, type="webauthn")
    assert key.wrap().name == "Laptop passkey"
    assert AuditEvent.objects.filter(action="user.mfa_added", metadata__type="webauthn").exists()
    assert scripts and all(url.startswith(live_server.url + "/static/") for url in scripts), scripts

    _sign_out(page)
    _sign_in_with_password(page, person.email)
    expect(page).to_have_url(re.compile(r"/accounts/2fa/authenticate/$"))
    page.get_by_role("button", name="Use a security key").click()
    expect(page).to_have_url(re.compile(r"/dashboard/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Ada's organization")

    _sign_out(page)
    page.get_by_role("button", name="Sign in with a passkey").click()
    expect(page).to_have_url(re.compile(r"/dashboard/$"))
