"""API keys in a real browser: the rotation dead end is gone (rotate, revoke the replacement, and the old key's
page offers the way forward, which works), and the key form shows custom scopes only when they are chosen."""

from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import expect

from accounts.roles import Role
from apikeys.models import ApiKey
from tests.factories import ApplicationFactory, MembershipFactory, OrganizationFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def developer_app():
    organization = OrganizationFactory(name="Acme", slug="acme")
    developer = MembershipFactory(organization=organization, role=Role.DEVELOPER).user
    return developer, ApplicationFactory(organization=organization, name="Billing sync")


def _hello(live_server, key: str) -> int:
    return requests.get(f"{live_server.url}/api/v1/hello", headers={"X-API-Key": key}, timeout=10).status_code


def test_a_key_whose_replacement_was_revoked_can_be_rotated_again(new_page, live_server, developer_app,
                                                                  make_key) -> None:
    developer, application = developer_app
    old, old_plaintext = make_key(application, "READ_ONLY", name="worker", expires_in_days=30)
    page = new_page(user=developer)

    page.goto(f"/orgs/acme/keys/{old.public_id}/")
    page.get_by_role("link", name="Rotate", exact=True).click()
    page.get_by_role("button", name="Rotate key").click()
    expect(page).to_have_url(re.compile(r"/keys/created/$"))
    first = ApiKey.objects.get(replaces=old)
    expect(page.get_by_role("heading", name=re.compile(r"worker \(rotated \d{4}-\d{2}-\d{2}\)"))).to_be_visible()

    page.goto(f"/orgs/acme/keys/{first.public_id}/revoke/")
    page.get_by_role("button", name="Revoke key").click()
    expect(page.get_by_role("status").first).to_contain_text("has been revoked")

    page.goto(f"/orgs/acme/keys/{old.public_id}/")
    expect(page.locator("#key-state")).to_contain_text("was revoked")
    expect(page.get_by_role("link", name="Keep this key")).to_be_visible()
    expect(page.get_by_role("link", name="Revoke now")).to_be_visible()
    page.get_by_role("link", name="Rotate again").click()
    page.get_by_label("Name of the new key (optional)").fill("worker, second try")
    page.get_by_role("button", name="Rotate key").click()

    expect(page.get_by_role("heading", name="Your new API key: worker, second try")).to_be_visible()
    new_plaintext = page.get_by_label("API key").input_value()
    assert _hello(live_server, new_plaintext) == 200 and _hello(live_server, old_plaintext) == 200
    page.goto(f"/orgs/acme/keys/{old.public_id}/")
    expect(page.get_by_role("link", name="Rotate again")).to_have_count(0)
    expect(page.locator("dl")).to_contain_text("worker, second try")


def test_keep_this_key_ends_the_rotation(new_page, live_server, developer_app, make_key) -> None:
    from apikeys.services import api_key_revoke, api_key_rotate
    from portal.callers import Caller

    developer, application = developer_app
    old, old_plaintext = make_key(application, "READ_ONLY", name="worker", expires_in_days=30)
    caller = Caller.system(application.organization)
    replacement, _ = api_key_rotate(caller=caller, key=old)
    api_key_revoke(caller=caller, key=replacement)
    page = new_page(user=developer)

    page.goto(f"/orgs/acme/keys/{old.public_id}/")
    page.get_by_role("link", name="Keep this key").click()
    page.get_by_role("button", name="Keep this key").click()

    expect(page.get_by_role("status").first).to_contain_text("works as before")
    expect(page.locator("h2 .badge").first).to_have_text("Active")
    assert _hello(live_server, old_plaintext) == 200


def test_custom_scopes_show_only_when_custom_is_chosen(new_page, developer_app) -> None:
    developer, application = developer_app
    page = new_page(user=developer)
    page.goto(f"/orgs/acme/apps/{application.pk}/keys/new/")
    checkbox = page.get_by_role("checkbox", name=re.compile(r"^apps:read"))

    expect(checkbox).to_be_hidden()
    page.get_by_role("radio", name=re.compile(r"^Custom")).check()
    expect(checkbox).to_be_visible()
    checkbox.check()
    page.get_by_role("radio", name=re.compile(r"^Read Only")).check()
    expect(checkbox).to_be_hidden()


def test_without_javascript_every_custom_scope_is_shown(browser, live_server, developer_app) -> None:
    from django.conf import settings
    from django.test import Client

    developer, application = developer_app
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    client = Client()
    client.force_login(developer)
    name = settings.SESSION_COOKIE_NAME
    context.add_cookies([{"name": name, "value": client.cookies[name].value, "url": live_server.url}])
    page = context.new_page()
    page.goto(f"/orgs/acme/apps/{application.pk}/keys/new/")
    expect(page.get_by_role("checkbox", name=re.compile(r"^apps:read"))).to_be_visible()
    context.close()
