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
def site(make_key, make_client, settings):
    """An organization with everything the pages show: an owner, a developer, an application with a key and an
    OAuth client for the authorization-code grant (with a long redirect URI), a webhook endpoint with deliveries,
    an OAuth token the owner granted, and a day of usage."""
    organization = OrganizationFactory(name="Acme Corporation International", slug="acme")
    owner_membership = MembershipFactory(organization=organization, role=Role.OWNER)
    developer = MembershipFactory(organization=organization, role=Role.DEVELOPER)
    application = ApplicationFactory(organization=organization, name="Billing sync",
                                     description="Sends invoices to the accounting system every night.")
    key, _ = make_key(application, "STANDARD", name="CI deploys", allowed_ips=["10.0.0.0/8", "2001:db8:85a3::/48"])
    client, _secret = make_client(
        application, grants=("authorization_code",), scopes=("apps:read", "keys:read"), name="Invoice Robot",
        redirect_uris=["https://client.example.com/callback",
                       "https://accounting-integration.eu-central-1.example.com/oauth2/callback/acme-corporation"])
    _usage(organization, application, key)
    _token(owner_membership.user, organization, client)
    endpoint = _webhook(organization)
    return {"org": organization, "owner": owner_membership.user, "developer": developer, "app": application,
            "client": client, "key": key, "webhook": endpoint, "settings": settings,
            "owner_membership": owner_membership}


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


def _token(user, organization, client) -> None:
    """An access token the person granted the client, for the authorized applications page."""
    from datetime import timedelta

    from django.utils import timezone
    from oauth2_provider.models import AccessToken

    from oauthapps.models import TokenOrganization

    token = AccessToken.objects.create(user=user, application=client, token="a-token-of-the-accessibility-test",
                                       expires=timezone.now() + timedelta(hours=1), scope="apps:read keys:read")
    TokenOrganization.objects.create(access_token=token, organization=organization)


def _webhook(organization):
    """An endpoint with a long URL, one delivery that failed with a long answer and one that succeeded."""
    from portal.encryption import encrypt
    from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent

    endpoint = WebhookEndpoint.objects.create(
        organization=organization, secret_encrypted=encrypt("whsec_accessibility"), event_types=["*"],
        url="https://hooks.accounting-integration.example.com/portal/events/acme-corporation-international/v2",
        description="Keeps the accounting system's copy of our keys in step.")
    for number, (status, code) in enumerate((("failed", 500), ("succeeded", 200))):
        event = WebhookEvent.objects.create(event_id=f"evt_{number:030d}", organization=organization,
                                            type="api_key.created", data={})
        delivery = WebhookDelivery.objects.create(event=event, endpoint=endpoint, status=status, attempt_count=1)
        WebhookAttempt.objects.create(delivery=delivery, status_code=code, duration_ms=130,
                                      response_body='{"error":"' + "x" * 300 + '"}' if code == 500 else "ok")
    return endpoint


def _key_created(page, site) -> None:
    page.goto(f"/orgs/acme/apps/{site['app'].pk}/keys/new/")
    page.get_by_label("Name").fill("Laptop")
    page.get_by_role("button", name="Create key").click()
    expect(page.get_by_label("API key")).to_be_visible()


def _client_edit_refused(page, site) -> None:
    """The client's page after a refused edit: the form with its errors."""
    page.goto(f"/orgs/acme/clients/{site['client'].pk}/")
    page.get_by_label("Redirect URIs").fill("ftp://not-a-place-to-send-codes.example.com/callback")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".errorlist").first).to_be_visible()


def _consent(page, site) -> None:
    _verifier, challenge = pkce_pair()
    page.goto("/oauth/authorize/?" + urlencode({
        "response_type": "code", "client_id": site["client"].client_id,
        "redirect_uri": "https://client.example.com/callback", "scope": "apps:read keys:read", "state": "s",
        "code_challenge": challenge, "code_challenge_method": "S256",
    }))
    expect(page.get_by_role("button", name="Authorize")).to_be_visible()


def _device_consent(page, site) -> None:
    from oauthapps.device_authorization import device_grant_create

    device_grant_create(client=site["client"], device_code="a-device-code", user_code="BCDF-GHJK",
                        scope="apps:read keys:read", interval=5)
    page.goto("/device?user_code=bcdfghjk")
    expect(page.get_by_role("button", name="Authorize")).to_be_visible()


def _not_found_with_debug_on(page, site) -> None:
    site["settings"].DEBUG = True  # the quick start's setting: still the portal's own page
    response = page.goto("/orgs/acme/no-such-page/")
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")


def _goto(path: str):
    """An opener for a page at ``path``, formatted with the site (``{app}``, ``{key}``, ``{client}``...)."""

    def _open(page, site) -> None:
        values = {"app": site["app"].pk, "key": site["key"].public_id, "client": site["client"].pk,
                  "webhook": site["webhook"].pk, "developer": site["developer"].pk,
                  "owner": site["owner_membership"].pk}
        response = page.goto(path.format(**values))
        assert response.status == 200, f"{path}: {response.status}"

    return _open


def _dead_end_key(site):
    """The site's key rotated, its replacement revoked: the key that offers Rotate again, Keep and Revoke now."""
    from apikeys.services import api_key_revoke, api_key_rotate
    from portal.callers import Caller

    caller = Caller.system(site["org"])
    replacement, _ = api_key_rotate(caller=caller, key=site["key"])
    api_key_revoke(caller=caller, key=replacement)
    return site["key"]


def _dead_end(path: str):
    """An opener for a page of the dead-end key (``{key}`` in ``path``)."""

    def _open(page, site) -> None:
        response = page.goto(path.format(key=_dead_end_key(site).public_id))
        assert response.status == 200, f"{path}: {response.status}"

    return _open


# name: (signed in, open the page)
PAGES = {
    "login": (False, _goto("/accounts/login/")),
    "signup": (False, _goto("/accounts/signup/")),
    "password_reset": (False, _goto("/accounts/password/reset/")),
    "dashboard": (True, _goto("/dashboard/")),
    "org_create": (True, _goto("/orgs/new/")),
    "overview": (True, _goto("/orgs/acme/")),
    "apps": (True, _goto("/orgs/acme/apps/")),
    "app_detail": (True, _goto("/orgs/acme/apps/{app}/")),
    "app_delete": (True, _goto("/orgs/acme/apps/{app}/delete/")),
    "key_create": (True, _goto("/orgs/acme/apps/{app}/keys/new/")),
    "key_created": (True, _key_created),
    "key_detail": (True, _goto("/orgs/acme/keys/{key}/")),
    "key_detail_dead_end": (True, _dead_end("/orgs/acme/keys/{key}/")),
    "key_rotate": (True, _goto("/orgs/acme/keys/{key}/rotate/")),
    "key_rotate_again": (True, _dead_end("/orgs/acme/keys/{key}/rotate/")),
    "key_keep": (True, _dead_end("/orgs/acme/keys/{key}/keep/")),
    "key_list": (True, _goto("/orgs/acme/keys/?q=CI")),
    "key_revoke": (True, _goto("/orgs/acme/keys/{key}/revoke/")),
    "client_create": (True, _goto("/orgs/acme/apps/{app}/clients/new/")),
    "client_detail": (True, _goto("/orgs/acme/clients/{client}/")),
    "client_edit": (True, _client_edit_refused),
    "client_rotate": (True, _goto("/orgs/acme/clients/{client}/rotate/")),
    "client_delete": (True, _goto("/orgs/acme/clients/{client}/delete/")),
    "client_list": (True, _goto("/orgs/acme/clients/")),
    "members": (True, _goto("/orgs/acme/members/")),
    "member_remove": (True, _goto("/orgs/acme/members/{developer}/remove/")),
    "member_leave": (True, _goto("/orgs/acme/members/{owner}/remove/")),
    "member_role": (True, _goto("/orgs/acme/members/{developer}/role/")),
    "member_role_confirm": (True, _goto("/orgs/acme/members/{developer}/role/?role=admin")),
    "webhooks": (True, _goto("/orgs/acme/webhooks/")),
    "webhook_detail": (True, _goto("/orgs/acme/webhooks/{webhook}/")),
    "webhook_delete": (True, _goto("/orgs/acme/webhooks/{webhook}/delete/")),
    "request_log": (True, _goto("/orgs/acme/requests/")),
    "audit_log": (True, _goto("/orgs/acme/audit/")),
    "audit_log_filtered": (True, _goto("/orgs/acme/audit/?action=api_key.created&since=2020-01-01&actor=system")),
    "security": (True, _goto("/orgs/acme/security/")),
    "email_change": (True, _goto("/accounts/email/")),
    "password_change": (True, _goto("/accounts/password/")),
    "two_factor": (True, _goto("/accounts/2fa/")),
    "totp_activate": (True, _goto("/accounts/2fa/totp/activate/")),
    "sessions": (True, _goto("/accounts/sessions/")),
    "authorized_apps": (True, _goto("/account/authorized-apps/")),
    "notifications": (True, _goto("/account/notifications/")),
    "consent": (True, _consent),
    "device": (True, _goto("/device")),
    "device_consent": (True, _device_consent),
    "not_found": (True, _not_found_with_debug_on),
}


def _axe_violations(page) -> list[str]:
    if not page.evaluate("() => typeof axe !== 'undefined'"):
        page.evaluate(AXE.read_text())  # not a <script> tag: the page's policy allows only its own scripts
    results = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['impact']} {v['id']}: {v['help']} at {[node['target'] for node in v['nodes']][:5]}"
        for v in results["violations"] if v["impact"] in BLOCKING_IMPACTS
    ]


# Inside <main>: a box that scrolls or clips sideways, or an element that sticks out of its card. A text field
# scrolls its own long value (the full value is still there to copy); an ellipsis is a deliberate truncation.
BOXES_THAT_DO_NOT_FIT = """() => {
  const main = document.querySelector("main");
  const name = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
    (el.className && typeof el.className === "string" ? "." + el.className.trim().split(/\\s+/).join(".") : "");
  const clipped = (el) => {  // visually hidden: inside a box clipped to nothing (.visually-hidden, a phone's thead)
    for (let box = el; box && box !== main; box = box.parentElement) {
      if (getComputedStyle(box).clip.startsWith("rect")) return true;
    }
    return false;
  };
  const problems = [];
  for (const el of main.querySelectorAll("*")) {
    if (!el.checkVisibility() || clipped(el) || ["INPUT", "TEXTAREA", "SELECT"].includes(el.tagName)) continue;
    const style = getComputedStyle(el);
    const rect = el.getBoundingClientRect();
    if (rect.width <= 1 || style.textOverflow === "ellipsis") continue;
    if (["auto", "scroll", "hidden", "clip"].includes(style.overflowX) && el.scrollWidth > el.clientWidth + 1) {
      problems.push(`${name(el)} scrolls or clips sideways: ${el.scrollWidth} px in ${el.clientWidth} px`);
    }
    const box = el.parentElement.closest(".card") || main;
    const outer = box.getBoundingClientRect();
    if (rect.right > outer.right + 1 || rect.left < outer.left - 1) {
      problems.push(`${name(el)} sticks out of ${name(box)}: ${Math.round(rect.left)}..${Math.round(rect.right)} ` +
                    `outside ${Math.round(outer.left)}..${Math.round(outer.right)}`);
    }
  }
  return problems.slice(0, 10);
}"""

# Every action inside <main>, scrolled to (as keyboard focus would), lies inside the screen from side to side.
ACTIONS_OFF_SCREEN = """() => {
  const off = [];
  for (const el of document.querySelector("main").querySelectorAll("a[href], button, summary, input[type=submit]")) {
    if (!el.checkVisibility() || el.closest(".visually-hidden")) continue;
    el.scrollIntoView({block: "center", inline: "nearest"});
    const rect = el.getBoundingClientRect();
    if (rect.left < -1 || rect.right > window.innerWidth + 1) {
      const label = el.textContent.trim().slice(0, 40);
      off.push(`${el.tagName.toLowerCase()} "${label}" at ${Math.round(rect.left)}..${Math.round(rect.right)}`);
    }
  }
  window.scrollTo(0, 0);
  return off;
}"""

AXE_RUNS = {("phone", "dark"), ("laptop", "light")}
BACKGROUND = "() => getComputedStyle(document.body).backgroundColor"


def _layout_problems(page, where: str) -> list[str]:
    problems = []
    width, screen = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    if width > screen:
        problems.append(f"{where}: the page is {width} px wide on a {screen} px screen")
    problems += [f"{where}: {problem}" for problem in page.evaluate(BOXES_THAT_DO_NOT_FIT)]
    problems += [f"{where}: off screen: {action}" for action in page.evaluate(ACTIONS_OFF_SCREEN)]
    return problems


@pytest.mark.parametrize("name", PAGES)
def test_page_fits_phone_and_laptop_in_light_and_dark_labels_every_field_and_passes_axe(new_page, site, name) -> None:
    """One page load each, then the same document at 375 px and 1280 px, in the light and the dark scheme
    (show-once pages cannot be loaded twice). The layout is checked in all four; axe-core, the slow part, in
    each scheme once (its colours are the same tokens at either width)."""
    if not AXE.exists():
        missing_prerequisite(f"{AXE} is missing: run `make browser-deps` (npm ci)")
    signed_in, open_page = PAGES[name]
    page = new_page(viewport=PHONE, user=site["owner"] if signed_in else None)

    open_page(page, site)

    assert page.locator("h1").count() == 1
    assert page.evaluate(UNLABELLED_FIELDS) == []
    problems, backgrounds = [], {}
    for viewport, size in (("phone", PHONE), ("laptop", LAPTOP)):
        page.set_viewport_size(size)
        for scheme in ("light", "dark"):
            page.emulate_media(color_scheme=scheme)
            backgrounds[scheme] = page.evaluate(BACKGROUND)
            where = f"{viewport} {scheme}"
            problems += _layout_problems(page, where)
            if (viewport, scheme) in AXE_RUNS:
                problems += [f"{where}: axe-core: {violation}" for violation in _axe_violations(page)]
    assert problems == [], "\n".join(problems)
    assert backgrounds["light"] != backgrounds["dark"], "the dark scheme changes nothing"


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
