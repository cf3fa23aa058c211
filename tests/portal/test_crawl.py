"""Every page an owner can reach answers below 500, with debug on (as ``make dev`` runs it) and off (as production
does): signed in as the owner of an organization that holds every kind of object (members, an invitation, an
application, keys live, revoked and rotated, OAuth clients, a webhook endpoint with deliveries, usage, audit events,
a second factor), the crawler follows every same-site link from the dashboard and the account pages, GET only."""

from __future__ import annotations

import re
from collections import deque
from datetime import timedelta
from html import unescape
from urllib.parse import urlencode, urlsplit

import pytest
from django.test import Client
from django.utils import timezone

from accounts.invitations.services import invitation_create
from accounts.roles import Role
from apikeys.services import api_key_revoke, api_key_rotate
from portal.callers import Caller
from tests.accounts.test_two_factor import _activate_totp
from tests.factories import PASSWORD, ApplicationFactory, MembershipFactory, OrganizationFactory
from tests.oauthapps.conftest import pkce_pair

pytestmark = pytest.mark.django_db

START = ["/dashboard/", "/orgs/acme/", "/accounts/email/", "/accounts/password/", "/accounts/2fa/",
         "/accounts/sessions/", "/account/notifications/", "/account/authorized-apps/", "/device",
         "/orgs/new/"]
# Never followed: signing out (the crawl would end), static files and the admin (not the owner's pages).
SKIP = re.compile(r"^/(accounts/logout/|static/|admin/)")
HREF = re.compile(r'<a\s[^>]*href="([^"]+)"')
MAX_PAGES = 500
MAX_VARIANTS = 4  # query-string variants (filters, pages) of one path


@pytest.fixture
def everything(make_key, make_client):
    organization = OrganizationFactory(name="Acme", slug="acme")
    owner = MembershipFactory(organization=organization, role=Role.OWNER).user
    for role in (Role.ADMIN, Role.DEVELOPER, Role.VIEWER):
        MembershipFactory(organization=organization, role=role)
    caller = Caller.system(organization, actor=owner)
    invitation_create(caller=caller, email="invited@example.com", role=Role.DEVELOPER, notify=False)
    application = ApplicationFactory(organization=organization, name="Billing sync")
    make_key(application, "READ_ONLY", name="active", environment="test")
    revoked, _ = make_key(application, "READ_ONLY", name="revoked")
    api_key_revoke(caller=caller, key=revoked)
    rotated, _ = make_key(application, "STANDARD", name="rotated", allowed_ips=["2001:db8::/32"])
    api_key_rotate(caller=caller, key=rotated)
    web_app, _ = make_client(application, grants=("authorization_code",), scopes=("apps:read", "openid"),
                             name="Web app")
    make_client(application, grants=("client_credentials",), scopes=("apps:read",), name="Service")
    _webhook_with_deliveries(organization)
    _usage(organization, application, rotated)
    _verifier, challenge = pkce_pair()
    consent = "/oauth/authorize/?" + urlencode({
        "response_type": "code", "client_id": web_app.client_id, "redirect_uri": "https://client.example.com/callback",
        "scope": "openid apps:read", "state": "s", "code_challenge": challenge, "code_challenge_method": "S256"})
    developer = organization.memberships.get(role=Role.DEVELOPER)
    role = f"/orgs/acme/members/{developer.pk}/role/"
    return owner, [consent, role, f"{role}?role=admin", "/accounts/2fa/recovery-codes/"]


def _webhook_with_deliveries(organization) -> None:
    from portal.encryption import encrypt
    from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent

    endpoint = WebhookEndpoint.objects.create(organization=organization, secret_encrypted=encrypt("whsec_crawl"),
                                              event_types=["*"], url="https://hooks.example.com/portal")
    for number, (status, code) in enumerate((("failed", 500), ("succeeded", 200), ("pending", None))):
        event = WebhookEvent.objects.create(event_id=f"evt_{number:030d}", organization=organization,
                                            type="api_key.created", data={})
        delivery = WebhookDelivery.objects.create(event=event, endpoint=endpoint, status=status, attempt_count=1)
        if code:
            WebhookAttempt.objects.create(delivery=delivery, status_code=code, duration_ms=130, response_body="ok")


def _usage(organization, application, key) -> None:
    from usage.models import RequestLog, UsageCount

    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    for hours in range(24):
        UsageCount.objects.create(granularity="hour", start=now - timedelta(hours=hours), organization=organization,
                                  application_id=application.pk, api_key=key, success=40, client_errors=3)
    for index, status in enumerate((200, 404, 429, 500)):
        RequestLog.objects.create(request_id=f"{index:032x}", created_at=timezone.now(), organization=organization,
                                  api_key=key, method="GET", status=status, path="/api/v1/hello", duration_ms=3,
                                  ip_address="2001:db8::1", user_agent="curl")


def _crawl(client: Client, start: list[str]) -> dict[str, int]:
    seen: dict[str, int] = {}
    variants: dict[str, int] = {}
    queue = deque(start)
    while queue and len(seen) < MAX_PAGES:
        url = queue.popleft()
        if url in seen:
            continue
        parts = urlsplit(url)
        variants[parts.path] = variants.get(parts.path, 0) + 1
        if variants[parts.path] > MAX_VARIANTS:
            continue
        response = client.get(url)
        seen[url] = response.status_code
        if response.status_code in (301, 302) and response["Location"].startswith("/"):
            queue.append(response["Location"])
        if response.status_code != 200 or not response["Content-Type"].startswith("text/html"):
            continue
        for href in HREF.findall(response.content.decode()):
            href = unescape(href).split("#")[0]
            if href.startswith("/") and not href.startswith("//") and not SKIP.match(href) and href not in seen:
                queue.append(href)
    return seen


@pytest.mark.parametrize("debug", [True, False])
def test_every_page_an_owner_reaches_answers_below_500(everything, settings, debug):
    owner, more = everything
    settings.DEBUG = debug
    client = Client(raise_request_exception=False)
    assert client.post("/accounts/login/", {"login": owner.email, "password": PASSWORD}).status_code == 302
    _activate_totp(client)  # a second factor: its pages (deactivate, recovery codes) are linked too

    seen = _crawl(client, START + more)

    broken = {url: status for url, status in seen.items() if status >= 500}
    assert broken == {}
    assert len(seen) > 45, sorted(seen)  # the crawl reached the organization's pages, not just the start
    for reached in ("/orgs/acme/keys/", "/orgs/acme/clients/", "/orgs/acme/webhooks/", "/orgs/acme/audit/",
                    "/orgs/acme/requests/", "/orgs/acme/members/", "/accounts/2fa/totp/deactivate/",
                    "/oauth/authorize/"):
        assert any(url.startswith(reached) for url in seen), reached
