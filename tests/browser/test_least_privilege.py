"""Least privilege in a real browser (contract section 19): unticking a scope on the consent page leaves it out
of the token, and the Security page sets the credential policy and lists what breaks it, with a way to comply."""

from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import expect

from accounts.roles import Role
from apikeys.models import ApiKey
from policies.selectors import policy_for
from tests.browser.test_oauth_flow import authorize_url, callback_server, loopback_client  # noqa: F401 (fixtures)
from tests.factories import ApplicationFactory, MembershipFactory, OrganizationFactory
from tests.oauthapps.conftest import pkce_pair, query_of

pytestmark = pytest.mark.django_db(transaction=True)


def test_unticking_a_scope_on_the_consent_page_leaves_it_out_of_the_token(
        new_page, live_server, callback_server, loopback_client) -> None:  # noqa: F811
    client, person = loopback_client
    from oauthapps.services.clients import oauth_client_rotate_secret
    from portal.callers import Caller

    _client, secret = oauth_client_rotate_secret(caller=Caller.system(client.organization), client=client)
    verifier, challenge = pkce_pair()
    page = new_page(user=person)
    page.goto(authorize_url(live_server, client, callback_server.redirect_uri, code_challenge=challenge))
    keys_box = page.get_by_role("checkbox", name=re.compile(r"^keys:read"))
    expect(keys_box).to_be_checked()
    keys_box.uncheck()
    expect(page.get_by_role("checkbox", name=re.compile(r"^apps:read"))).to_be_checked()
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(f"{callback_server.redirect_uri}?**")
    answer = query_of(f"?{callback_server.queries[0]}")

    tokens = requests.post(f"{live_server.url}/oauth/token/", auth=(client.client_id, secret), timeout=10, data={
        "grant_type": "authorization_code", "code": answer["code"], "redirect_uri": callback_server.redirect_uri,
        "code_verifier": verifier,
    })
    assert tokens.status_code == 200, tokens.text
    assert tokens.json()["scope"] == "apps:read"
    bearer = {"Authorization": f"Bearer {tokens.json()['access_token']}"}
    assert requests.get(f"{live_server.url}/api/v1/applications", headers=bearer, timeout=10).status_code == 200
    refused = requests.get(f"{live_server.url}/api/v1/api-keys", headers=bearer, timeout=10)
    assert refused.status_code == 403 and refused.json()["code"] == "INSUFFICIENT_SCOPE"


def test_an_owner_sets_the_policy_on_the_security_page_and_revokes_what_breaks_it(new_page) -> None:
    from apikeys.services import api_key_create
    from portal.callers import Caller

    organization = OrganizationFactory(name="Acme")
    owner = MembershipFactory(organization=organization, role=Role.OWNER).user
    application = ApplicationFactory(organization=organization, name="Billing sync")
    key, _ = api_key_create(caller=Caller.system(organization), application=application, name="Everything key",
                            scope_preset="STANDARD", environment="test")
    page = new_page(user=owner)
    page.goto(f"/orgs/{organization.slug}/security/")
    expect(page.get_by_role("heading", name="Credential policy")).to_be_visible()
    page.get_by_label("Longest key lifetime (days)").fill("90")
    for scope in ("admin", "team:write", "webhooks:write"):
        page.get_by_role("checkbox", name=re.compile(rf"^{re.escape(scope)} ")).uncheck()
    page.get_by_label("Live keys must list allowed IP ranges").check()
    page.get_by_role("button", name="Save the credential policy").click()
    expect(page.locator("body")).to_contain_text("The credential policy has been saved")
    policy = policy_for(organization.pk)
    assert policy.max_key_lifetime_days == 90 and policy.live_keys_need_ip_ranges
    assert "webhooks:write" not in policy.allowed_scope_list() and "admin" not in policy.allowed_scope_list()

    violations = page.locator("#policy-violations")
    expect(violations).to_contain_text("Everything key")
    expect(violations.get_by_role("link", name="Rotate")).to_be_visible()
    violations.get_by_role("link", name="Revoke").click()
    page.get_by_role("button", name=re.compile("Revoke")).click()
    key.refresh_from_db()
    assert key.revoked_at is not None
    page.goto(f"/orgs/{organization.slug}/security/")
    expect(page.locator("#policy-violations")).to_contain_text("Every working key and OAuth client complies")
    assert ApiKey.objects.filter(revoked_at__isnull=True).count() == 0
