"""The end of a membership (contract section 2): OAuth tokens acting as that person for the organization are
revoked at once; their keys and clients stay unless the remover revokes them all in the same step."""

from __future__ import annotations

import pytest
from django.test import Client
from oauth2_provider.models import AccessToken, RefreshToken

from accounts.roles import Role
from accounts.selectors import member_caller
from apikeys.services import api_key_create
from audit.models import AuditEvent
from oauthapps.models import OAuthClient

pytestmark = pytest.mark.django_db


def _made_by(person, org, app, make_client):
    caller = member_caller(org, person, Role.DEVELOPER)
    key, plaintext = api_key_create(caller=caller, application=app, name="their key", scope_preset="READ_ONLY")
    client, secret = make_client(app, name="their client")
    client.created_by = person
    client.save(update_fields=["created_by"])
    return key, plaintext, client


def test_removing_a_member_revokes_their_tokens_at_once_and_keeps_their_keys(
    org, owner, developer, login, app, make_client, code_tokens
) -> None:
    oauth_client, secret = make_client(app, grants=("authorization_code", "refresh_token"))
    tokens = code_tokens(login(developer), oauth_client, secret, org.slug)
    key, plaintext, their_client = _made_by(developer, org, app, make_client)
    membership = developer.memberships.get(organization=org)

    page = login(owner).get(f"/orgs/{org.slug}/members/{membership.pk}/remove/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "their key" in body and "their client" in body and "Also revoke these 1 API key and 1 OAuth client" in body

    response = login(owner).post(f"/orgs/{org.slug}/members/{membership.pk}/remove/")
    assert response.status_code == 302

    assert not AccessToken.objects.filter(user=developer).exists()
    assert not RefreshToken.objects.filter(user=developer, revoked__isnull=True).exists()
    assert Client().get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}").status_code == 401
    assert Client().get("/api/v1/me", HTTP_X_API_KEY=plaintext).status_code == 200  # the key stays
    assert OAuthClient.objects.filter(pk=their_client.pk).exists()
    event = AuditEvent.objects.get(action="member.removed")
    assert event.metadata["revoked"]["oauthTokens"] == 2 and event.metadata["revokedCredentials"] is False

    listing = login(owner).get(f"/orgs/{org.slug}/apps/{app.pk}/").content.decode()
    assert "by a former member" in listing and developer.email not in listing


def test_one_choice_revokes_everything_they_made_in_the_same_step(org, owner, developer, login, app,
                                                                   make_client) -> None:
    key, plaintext, their_client = _made_by(developer, org, app, make_client)
    membership = developer.memberships.get(organization=org)

    login(owner).post(f"/orgs/{org.slug}/members/{membership.pk}/remove/", {"revoke_credentials": "on"})

    key.refresh_from_db()
    assert key.revoked_at is not None
    assert Client().get("/api/v1/me", HTTP_X_API_KEY=plaintext).status_code == 401
    assert not OAuthClient.objects.filter(pk=their_client.pk).exists()
    event = AuditEvent.objects.get(action="member.removed")
    assert event.metadata["revokedCredentials"] is True
    assert event.metadata["revoked"] == {"apiKeys": 1, "oauthClients": 1, "oauthTokens": 0}
    assert AuditEvent.objects.filter(action="api_key.revoked", metadata__reason="member removed").count() == 1


def test_their_sessions_lose_the_organization(org, other_org, owner, developer, login) -> None:
    from tests.factories import MembershipFactory

    MembershipFactory(organization=other_org, user=developer, role=Role.VIEWER)
    browser = Client()
    assert browser.post("/accounts/login/", {"login": developer.email, "password": "correct-horse-battery-staple"}
                        ).status_code == 302
    browser.get(f"/orgs/{org.slug}/")
    assert browser.session["current_org"] == org.slug

    login(owner).post(f"/orgs/{org.slug}/members/{developer.memberships.get(organization=org).pk}/remove/")

    assert "current_org" not in browser.session
    assert browser.get(f"/orgs/{org.slug}/").status_code == 404
    assert browser.get("/api/v1/me").json()["organization"]["slug"] == other_org.slug
