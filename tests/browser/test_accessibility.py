"""Every main page works on a phone (375 px) and a laptop (1280 px): no sideways scrolling of the page, a label
for every form field, and no serious or critical axe-core violation. Plus the sign-in form by keyboard alone."""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest
from playwright.sync_api import expect

from accounts.roles import Role
from tests.browser.conftest import LAPTOP, PHONE, REPO_ROOT, missing_prerequisite
from tests.factories import PASSWORD, ApplicationFactory, MembershipFactory, OrganizationFactory
from tests.oauthapps.conftest import pkce_pair

pytestmark = pytest.mark.django_db(transaction=True)

AXE = REPO_ROOT / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING_IMPACTS = {"serious", "critical"}

UNLABELLED_FIELDS = """() => Array.from(document.querySelectorAll("input, select, textarea"))
  .filter((field) => !["hidden", "submit", "button", "reset", "image"].includes(field.type))
  .filter((field) => {
    const labelled = Array.from(field.labels || []).some((label) => label.textContent.trim());
    return !labelled && !field.getAttribute("aria-label") && !field.getAttribute("aria-labelledby");
  })
  .map((field) => field.outerHTML.slice(0, 160))"""


@pytest.fixture
def site(make_key, make_client):
    """An organization with everything the pages show: an owner, a developer, an application with a key and an
    OAuth client for the authorization-code grant."""
    organization = OrganizationFactory(name="Acme Corporation International", slug="acme")
    owner = MembershipFactory(organization=organization, role=Role.OWNER).user
    MembershipFactory(organization=organization, role=Role.DEVELOPER)
    application = ApplicationFactory(organization=organization, name="Billing sync",
                                     description="Sends invoices to the accounting system every night.")
    key, _ = make_key(application, "STANDARD", name="CI deploys", allowed_ips=["10.0.0.0/8"])
    client, _secret = make_client(application, grants=("authorization_code",), scopes=("apps:read", "keys:read"),
                                  name="Invoice Robot")
    _usage(organization, application, key)
    return {"org": organization, "owner": owner, "app": application, "client": client, "key": key}


def _usage(organization, application, key) -> None:
    """A day of the key's requests, every outcome, for the charts and the request log."""
    from datetime import timedelta

    from django.utils import timezone

    from usage.models import RequestLog, UsageCount

    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    for hours in range(24):
        UsageCount.objects.create(granularity="hour", start=now - timedelta(hours=hours), organization=organization,
                                  application_id=application.pk, api_key=key, success=40 + hours, client_errors=3,
                                  rate_limited=hours % 3, server_errors=hours % 5 == 0)
    for index, status in enumerate((200, 201, 404, 429, 500, 200)):
        RequestLog.objects.create(request_id=f"{index:032x}", created_at=timezone.now() - timedelta(minutes=index),
                                  organization=organization, api_key=key, method="GET", status=status,
                                  path="/api/v1/applications/12345/with/a/rather/long/path/that/must/wrap",
                                  duration_ms=12.5, ip_address="2001:db8:85a3::8a2e:370:7334", user_agent="curl")


def _key_created(page, site) -> None:
    page.goto(f"/orgs/acme/apps/{site['app'].pk}/keys/new/")
    page.get_by_label("Name").fill("Laptop")
    page.get_by_role("button", name="Create key").click()
    expect(page.get_by_label("API key")).to_be_visible()


def _consent(page, site) -> None:
    _verifier, challenge = pkce_pair()
    page.goto("/oauth/authorize/?" + urlencode({
        "response_type": "code", "client_id": site["client"].client_id,
        "redirect_uri": "https://client.example.com/callback", "scope": "apps:read keys:read", "state": "s",
        "code_challenge": challenge, "code_challenge_method": "S256",
    }))
    expect(page.get_by_role("button", name="Authorize")).to_be_visible()


def _device_consent(page, site) -> None:
    from oauthapps.device import device_grant_create

    device_grant_create(client=site["client"], device_code="a-device-code", user_code="BCDF-GHJK",
                        scope="apps:read keys:read", interval=5)
    page.goto("/device?user_code=bcdfghjk")
    expect(page.get_by_role("button", name="Authorize")).to_be_visible()


def _dead_end_key(site):
    """The site's key rotated, its replacement revoked: the key that offers Rotate again, Keep and Revoke now."""
    from apikeys.services import api_key_revoke, api_key_rotate
    from portal.callers import Caller

    caller = Caller.system(site["org"])
    replacement, _ = api_key_rotate(caller=caller, key=site["key"])
    api_key_revoke(caller=caller, key=replacement)
    return site["key"]


def _member_page(site, role: str, page: str) -> str:
    """A page of the site's member of ``role`` (the owner's own are about leaving and stepping down)."""
    return f"/orgs/acme/members/{site['org'].memberships.get(role=role).pk}/{page}"


# name: (signed in, open the page)
PAGES = {
    "login": (False, lambda page, site: page.goto("/accounts/login/")),
    "signup": (False, lambda page, site: page.goto("/accounts/signup/")),
    "dashboard": (True, lambda page, site: page.goto("/dashboard/")),
    "apps": (True, lambda page, site: page.goto("/orgs/acme/apps/")),
    "app_detail": (True, lambda page, site: page.goto(f"/orgs/acme/apps/{site['app'].pk}/")),
    "key_create": (True, lambda page, site: page.goto(f"/orgs/acme/apps/{site['app'].pk}/keys/new/")),
    "key_created": (True, _key_created),
    "key_detail": (True, lambda page, site: page.goto(f"/orgs/acme/keys/{site['key'].public_id}/")),
    "key_detail_dead_end": (True, lambda page, site: page.goto(f"/orgs/acme/keys/{_dead_end_key(site).public_id}/")),
    "key_rotate": (True, lambda page, site: page.goto(f"/orgs/acme/keys/{site['key'].public_id}/rotate/")),
    "key_rotate_again": (True, lambda page, site: page.goto(
        f"/orgs/acme/keys/{_dead_end_key(site).public_id}/rotate/")),
    "key_keep": (True, lambda page, site: page.goto(f"/orgs/acme/keys/{_dead_end_key(site).public_id}/keep/")),
    "request_log": (True, lambda page, site: page.goto("/orgs/acme/requests/")),
    "overview": (True, lambda page, site: page.goto("/orgs/acme/")),
    "members": (True, lambda page, site: page.goto("/orgs/acme/members/")),
    "member_remove": (True, lambda page, site: page.goto(_member_page(site, Role.DEVELOPER, "remove/"))),
    "member_role": (True, lambda page, site: page.goto(_member_page(site, Role.DEVELOPER, "role/"))),
    "member_role_confirm": (True, lambda page, site: page.goto(_member_page(site, Role.DEVELOPER, "role/?role=admin"))),
    "leave": (True, lambda page, site: page.goto(_member_page(site, Role.OWNER, "remove/"))),
    "audit_log": (True, lambda page, site: page.goto("/orgs/acme/audit/")),
    "audit_log_filtered": (True, lambda page, site: page.goto(
        "/orgs/acme/audit/?action=api_key.created&since=2020-01-01&actor=system")),
    "key_list": (True, lambda page, site: page.goto("/orgs/acme/keys/?q=CI")),
    "client_list": (True, lambda page, site: page.goto("/orgs/acme/clients/")),
    "webhooks": (True, lambda page, site: page.goto("/orgs/acme/webhooks/")),
    "notifications": (True, lambda page, site: page.goto("/account/notifications/")),
    "email_change": (True, lambda page, site: page.goto("/accounts/email/")),
    "client_create": (True, lambda page, site: page.goto(f"/orgs/acme/apps/{site['app'].pk}/clients/new/")),
    "consent": (True, _consent),
    "device": (True, lambda page, site: page.goto("/device")),
    "device_consent": (True, _device_consent),
}


def _axe_violations(page) -> list[str]:
    page.evaluate(AXE.read_text())  # not a <script> tag: the page's policy allows only its own scripts
    results = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['impact']} {v['id']}: {v['help']} at {[node['target'] for node in v['nodes']][:5]}"
        for v in results["violations"] if v["impact"] in BLOCKING_IMPACTS
    ]


@pytest.mark.parametrize("viewport", [PHONE, LAPTOP], ids=["phone", "laptop"])
@pytest.mark.parametrize("name", PAGES)
def test_page_fits_the_screen_labels_every_field_and_passes_axe(new_page, site, name, viewport) -> None:
    if not AXE.exists():
        missing_prerequisite(f"{AXE} is missing: run `make browser-deps` (npm ci)")
    signed_in, open_page = PAGES[name]
    page = new_page(viewport=viewport, user=site["owner"] if signed_in else None)

    open_page(page, site)

    assert page.locator("h1").count() == 1
    overflow = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert overflow[0] <= overflow[1], f"the page is {overflow[0]} px wide on a {overflow[1]} px screen"
    assert page.evaluate(UNLABELLED_FIELDS) == []
    violations = _axe_violations(page)
    assert violations == [], "axe-core found:\n" + "\n".join(violations)


def test_sign_in_with_the_keyboard_alone(page, site) -> None:
    page.goto("/accounts/login/")
    page.locator(".skip-link").focus()  # the first stop of the page: tab on from the very top

    stops = []
    for _ in range(8):
        page.keyboard.press("Tab")
        stops.append(page.evaluate("() => document.activeElement.id || document.activeElement.textContent.trim()"))
        if stops[-1] == "id_login":
            break
    assert stops == ["Developer Portal", "Sign in", "Sign up", "id_login"]

    page.keyboard.type(site["owner"].email)
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password")).to_be_focused()
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Sign in", exact=True)).to_be_focused()
    page.keyboard.press("Enter")

    expect(page).to_have_url(re.compile(r"/dashboard/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Acme Corporation International")
