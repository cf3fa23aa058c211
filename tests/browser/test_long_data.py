"""Pages full of long data still fit (contract section 8): keys, OAuth clients, members, webhooks and audit rows
with 80-character names, every scope, long e-mail addresses, IPv6 ranges and long redirect URIs. At 375 px and
1280 px, light and dark: no sideways scroll of the page, no box that scrolls or clips sideways, every action on
screen. The checks are the accessibility test's own (``_layout_problems``)."""

from __future__ import annotations

import os

import pytest

from accounts.roles import Role
from portal import scopes as scope_registry
from portal.callers import Caller
from tests.browser.conftest import ARTIFACTS, LAPTOP, PHONE
from tests.browser.test_accessibility import _layout_problems
from tests.factories import ApplicationFactory, MembershipFactory, OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

LONG = "Quarterly-reconciliation-of-accounts-receivable-for-the-european-subsidiaries-v2"  # 80 characters
LONG_EMAIL = "maximiliane.alexandra.von-hohenzollern-sigmaringen.operations@accounting-department.example.com"
IPV6 = ["2001:db8:85a3:1234:5678:9abc:def0:0/112", "2001:0db8:0000:0000:0000:ff00:0042:8329/128",
        "fd12:3456:789a:1::/64", "203.0.113.0/24"]
LONG_URI = ("https://accounting-integration.eu-central-1.example.com/oauth2/callback/"
            "acme-corporation-international/tenants/0f8fad5b-d9cb-469f-a165-70867728950e/return")


@pytest.fixture
def crowded(make_key, make_client):
    assert len(LONG) == 80
    organization = OrganizationFactory(name=LONG[:60], slug="acme")
    owner = UserFactory(email=LONG_EMAIL, full_name=LONG[:60])
    MembershipFactory(organization=organization, role=Role.OWNER, user=owner)
    members = []
    for number, role in enumerate((Role.ADMIN, Role.DEVELOPER, Role.VIEWER)):
        user = UserFactory(email=f"{number}.{LONG_EMAIL}", full_name=LONG)
        members.append(MembershipFactory(organization=organization, role=role, user=user))
    caller = Caller.system(organization, actor=owner)
    from accounts.invitations.services import invitation_create

    invitation_create(caller=caller, email=f"invited.{LONG_EMAIL}", role=Role.DEVELOPER, notify=False)
    application = ApplicationFactory(organization=organization, name=LONG, description=LONG * 3, created_by=owner)
    grantable = [s for s in scope_registry.registry() if s not in scope_registry.IDENTITY_SCOPES]
    from apikeys.services import api_key_create, api_key_revoke

    keys = []
    for number in range(3):
        key, _ = api_key_create(caller=caller, application=application, name=f"{LONG[:78]}{number:02d}",
                                scopes=grantable, allowed_ips=IPV6, rate_limit_per_minute=100_000)
        keys.append(key)
    api_key_revoke(caller=caller, key=keys[2])
    client, _ = make_client(application, grants=("authorization_code", "refresh_token", "client_credentials"),
                            scopes=tuple(scope_registry.registry()), name=LONG,
                            redirect_uris=[LONG_URI, LONG_URI + "/second", "http://127.0.0.1:8765/callback"])
    endpoint = _webhook(organization)
    from tests.browser.test_accessibility import _usage

    _usage(organization, application, keys[0])
    return {"owner": owner, "app": application, "key": keys[0], "client": client, "webhook": endpoint,
            "member": members[1]}


def _webhook(organization):
    from portal.encryption import encrypt
    from portal.events import EVENT_TYPES
    from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent

    endpoint = WebhookEndpoint.objects.create(
        organization=organization, secret_encrypted=encrypt("whsec_long"), event_types=list(EVENT_TYPES),
        url=LONG_URI + "/webhooks/" + LONG, description=LONG * 2)
    for number, (status, code) in enumerate((("failed", 500), ("succeeded", 200))):
        event = WebhookEvent.objects.create(event_id=f"evt_{number:030d}_{LONG[:5]}", organization=organization,
                                            type="oauth_client.secret_rotated", data={})
        delivery = WebhookDelivery.objects.create(event=event, endpoint=endpoint, status=status, attempt_count=3)
        WebhookAttempt.objects.create(delivery=delivery, status_code=code, duration_ms=9999,
                                      response_body=LONG * 12, error=LONG)
    return endpoint


PAGES = {
    "overview": "/orgs/acme/",
    "apps": "/orgs/acme/apps/",
    "app_detail": "/orgs/acme/apps/{app}/",
    "key_list": "/orgs/acme/keys/",
    "key_detail": "/orgs/acme/keys/{key}/",
    "key_rotate": "/orgs/acme/keys/{key}/rotate/",
    "key_revoke": "/orgs/acme/keys/{key}/revoke/",
    "client_list": "/orgs/acme/clients/",
    "client_detail": "/orgs/acme/clients/{client}/",
    "members": "/orgs/acme/members/",
    "member_remove": "/orgs/acme/members/{member}/remove/",
    "member_role": "/orgs/acme/members/{member}/role/?role=admin",
    "webhooks": "/orgs/acme/webhooks/",
    "webhook_detail": "/orgs/acme/webhooks/{webhook}/",
    "audit_log": "/orgs/acme/audit/",
    "request_log": "/orgs/acme/requests/",
    "sessions": "/accounts/sessions/",
    "email": "/accounts/email/",
}


@pytest.mark.parametrize("name", PAGES)
def test_long_data_fits_phone_and_laptop_in_light_and_dark(new_page, crowded, name) -> None:
    values = {"app": crowded["app"].pk, "key": crowded["key"].public_id, "client": crowded["client"].pk,
              "webhook": crowded["webhook"].pk, "member": crowded["member"].pk}
    page = new_page(viewport=LAPTOP, user=crowded["owner"])
    response = page.goto(PAGES[name].format(**values))
    assert response.status == 200
    problems = []
    for viewport, size in (("phone", PHONE), ("laptop", LAPTOP)):
        page.set_viewport_size(size)
        for scheme in ("light", "dark"):
            page.emulate_media(color_scheme=scheme)
            problems += _layout_problems(page, f"{viewport} {scheme}")
        if os.environ.get("PORTAL_SCREENSHOTS"):  # to look at them: PORTAL_SCREENSHOTS=1, then test-artifacts/
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / f"long-{name}-{viewport}.png"), full_page=True)
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("path", ["/orgs/newcomer/", "/accounts/2fa/", "/orgs/newcomer/apps/{app}/keys/new/"])
def test_the_verification_banner_fits_with_a_long_address(new_page, path) -> None:
    """A person not verified yet, with a long address: the overview's banner, the two-factor page's notice and
    the key form's note, each with its resend button on screen."""
    from allauth.account.models import EmailAddress

    organization = OrganizationFactory(name="Newcomer", slug="newcomer", is_personal=True)
    person = UserFactory(email=LONG_EMAIL)
    EmailAddress.objects.filter(user=person).update(verified=False)
    MembershipFactory(organization=organization, role=Role.OWNER, user=person)
    application = ApplicationFactory(organization=organization, name=LONG)
    page = new_page(viewport=PHONE, user=person)
    assert page.goto(path.format(app=application.pk)).status == 200
    problems = []
    for viewport, size in (("phone", PHONE), ("laptop", LAPTOP)):
        page.set_viewport_size(size)
        for scheme in ("light", "dark"):
            page.emulate_media(color_scheme=scheme)
            problems += _layout_problems(page, f"{viewport} {scheme}")
            button = page.get_by_role("button", name="Send the link again")
            assert button.is_visible()
        if os.environ.get("PORTAL_SCREENSHOTS"):
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            stem = path.strip("/").replace("/", "-").replace("{app}", "app")
            page.screenshot(path=str(ARTIFACTS / f"banner-{stem}-{viewport}.png"), full_page=True)
    assert problems == [], "\n".join(problems)
