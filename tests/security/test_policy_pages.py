"""The credential policy in the dashboard: set on the Security page by owners and admins, its violations listed
there with a way to comply, and every form that makes a credential offering only what it allows."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse

from apikeys.models import ApiKey
from audit.models import AuditEvent
from policies.selectors import policy_for
from policies.services import credential_policy_update
from portal import scopes as scope_registry
from portal.callers import Caller

pytestmark = pytest.mark.django_db


def _set(org, **fields):
    values = {"max_key_lifetime_days": None, "allowed_scopes": None, "live_keys_need_ip_ranges": False,
              "revoke_unused_keys_after_days": None, **fields}
    credential_policy_update(caller=Caller.system(org), **values)


def _form(**fields):
    data = {"max_key_lifetime_days": "", "allowed_scopes": list(scope_registry.registry()),
            "revoke_unused_keys_after_days": ""}
    data.update(fields)
    return data


def test_an_admin_sets_the_policy_on_the_security_page(org, admin_user, login) -> None:
    client = login(admin_user)
    page = client.get(reverse("org-security", args=[org.slug])).content.decode()
    assert "Credential policy" in page and 'name="max_key_lifetime_days"' in page
    response = client.post(reverse("credential-policy", args=[org.slug]), _form(
        max_key_lifetime_days="45", allowed_scopes=["apps:read", "keys:read"], live_keys_need_ip_ranges="on",
        revoke_unused_keys_after_days="90"))
    assert response.status_code == 302
    policy = policy_for(org.pk)
    assert policy.max_key_lifetime_days == 45 and policy.allowed_scope_list() == ["apps:read", "keys:read"]
    assert policy.live_keys_need_ip_ranges and policy.revoke_unused_keys_after_days == 90
    assert AuditEvent.objects.filter(action="organization.policy_changed").count() == 1


def test_the_page_refuses_admin_with_a_scope_left_out_and_says_why(org, owner, login) -> None:
    scopes = [s for s in scope_registry.registry() if s != "team:write"]
    response = login(owner).post(reverse("credential-policy", args=[org.slug]), _form(allowed_scopes=scopes))
    assert response.status_code == 400
    assert "admin implies every scope" in response.content.decode()
    assert policy_for(org.pk).allowed_scopes is None


@pytest.mark.parametrize("role_fixture", ["developer", "viewer"])
def test_developers_and_viewers_read_the_policy_but_cannot_change_it(request, org, login, role_fixture) -> None:
    client = login(request.getfixturevalue(role_fixture))
    page = client.get(reverse("org-security", args=[org.slug])).content.decode()
    assert "Only owners and admins change the credential policy" in page
    response = client.post(reverse("credential-policy", args=[org.slug]), _form(max_key_lifetime_days="10"))
    assert response.status_code == 403
    assert policy_for(org.pk).max_key_lifetime_days is None


def test_violations_are_listed_with_rotate_and_revoke(org, owner, login, app, make_key) -> None:
    key, _ = make_key(app, "STANDARD", name="Too wide", environment="test")
    _set(org, allowed_scopes=["apps:read", "keys:read"])
    page = login(owner).get(reverse("org-security", args=[org.slug])).content.decode()
    assert "Too wide" in page
    assert reverse("key-rotate", args=[org.slug, key.public_id]) in page
    assert reverse("key-revoke", args=[org.slug, key.public_id]) in page


def test_the_key_form_offers_only_what_the_policy_allows(org, owner, login, app) -> None:
    _set(org, max_key_lifetime_days=45, allowed_scopes=["apps:read", "keys:read", "keys:write"])
    page = login(owner).get(reverse("key-create", args=[org.slug, app.pk])).content.decode()
    expiry = re.findall(r'name="expires_in_days"[^>]*>|<option value="(\w+)"', page)
    offered_days = {v for v in expiry if v}
    assert offered_days == {"7", "30", "45"}, offered_days
    assert 'value="never"' not in page
    assert 'value="audit:read"' not in page and 'value="keys:write"' in page
    assert 'value="READ_ONLY"' not in page and 'value="STANDARD"' not in page


def test_a_crafted_post_beyond_the_policy_is_refused_on_the_form(org, owner, login, app) -> None:
    _set(org, max_key_lifetime_days=30)
    response = login(owner).post(reverse("key-create", args=[org.slug, app.pk]), {
        "name": "k", "scope_preset": "READ_ONLY", "expires_in_days": "365", "environment": "test"})
    assert response.status_code == 400
    assert not ApiKey.objects.filter(name="k").exists()


def test_the_quick_start_keeps_within_the_lifetime_limit(org, owner, login) -> None:
    _set(org, max_key_lifetime_days=5)
    response = login(owner).post(reverse("quick-start", args=[org.slug]))
    assert response.status_code == 302
    key = ApiKey.objects.get(organization=org)
    assert abs((key.expires_at - key.created_at) - timedelta(days=5)) < timedelta(seconds=5)


def test_the_quick_start_refuses_when_its_preset_holds_a_disallowed_scope(org, owner, login) -> None:
    _set(org, allowed_scopes=["apps:read"])
    client = login(owner)
    response = client.post(reverse("quick-start", args=[org.slug]), follow=True)
    assert "READ_ONLY" in response.content.decode()
    assert not ApiKey.objects.filter(organization=org).exists()


def test_the_oauth_client_form_offers_only_allowed_scopes(org, owner, login, app) -> None:
    _set(org, allowed_scopes=["apps:read", "keys:read"])
    page = login(owner).get(reverse("client-create", args=[org.slug, app.pk])).content.decode()
    assert 'value="keys:read"' in page and 'value="team:read"' not in page


def test_issue_api_key_obeys_the_policy(org) -> None:
    from django.core.management import CommandError, call_command

    _set(org, max_key_lifetime_days=30)
    with pytest.raises(CommandError, match="30 days"):
        call_command("issue_api_key", "--org", org.slug, "--name", "ci", "--preset", "READ_ONLY",
                     "--environment", "test", "--expires-in-days", "90")


def test_staff_in_the_admin_obey_the_policy(org, app, staff_client) -> None:
    _set(org, allowed_scopes=["apps:read"])
    response = staff_client.post(reverse("admin:apikeys_apikey_add"), {
        "application": app.pk, "name": "staff key", "scope_preset": "READ_ONLY", "expires_in_days": "30",
        "environment": "test"})
    assert response.status_code == 200
    assert "READ_ONLY" in response.content.decode()
    assert not ApiKey.objects.filter(name="staff key").exists()
