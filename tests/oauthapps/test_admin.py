"""OAuth clients, tokens and codes in /admin/: made and revoked through the services, no secret ever shown
except a new client's secret, once."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from oauth2_provider.models import AccessToken, Grant, RefreshToken

from audit.models import AuditEvent
from oauthapps.models import OAuthClient
from tests.helpers import stored_text_containing
from tests.oauthapps.conftest import REDIRECT_URI

pytestmark = pytest.mark.django_db




@pytest.fixture
def cc_token(make_client, app, token_request):
    """``(client, access token)`` from a client-credentials grant."""
    client, secret = make_client(app)
    response = token_request({"grant_type": "client_credentials"}, client, secret)
    assert response.status_code == 200, response.content
    return client, response.json()["access_token"]


def _add_client(staff_client, application, **overrides):
    form = {"application": application.pk, "name": "Staff client", "client_type": "confidential",
            "grant_types": ["client_credentials"], "redirect_uris": "", "allowed_scopes": ["apps:read"],
            "rate_limit_per_minute": ""}
    form.update(overrides)
    return staff_client.post(reverse("admin:oauthapps_oauthclient_add"), form)


# Clients -----------------------------------------------------------------------------------------------------


def test_dot_admin_for_clients_and_tokens_is_replaced_by_the_portals(staff_client):
    from django.contrib import admin

    from oauthapps import admin as portal_admin

    assert type(admin.site._registry[OAuthClient]) is portal_admin.OAuthClientAdmin
    assert type(admin.site._registry[AccessToken]) is portal_admin.AccessTokenAdmin
    assert type(admin.site._registry[RefreshToken]) is portal_admin.RefreshTokenAdmin
    assert type(admin.site._registry[Grant]) is portal_admin.GrantAdmin


def test_no_client_page_shows_the_secret_or_its_hash(staff_client, make_client, app):
    client, secret = make_client(app)

    for url in (reverse("admin:oauthapps_oauthclient_changelist"),
                reverse("admin:oauthapps_oauthclient_change", args=[client.pk])):
        response = staff_client.get(url)
        html = response.content.decode()
        assert response.status_code == 200
        assert client.client_id in html
        assert secret not in html
        assert client.client_secret not in html
        assert "client_secret" not in html
        assert "skip_authorization" not in html


def test_the_client_changelist_finds_a_client_by_client_id(staff_client, make_client, app):
    wanted, _ = make_client(app, name="wanted")
    other, _ = make_client(app, name="other")

    response = staff_client.get(reverse("admin:oauthapps_oauthclient_changelist"), {"q": wanted.client_id})

    assert [c.pk for c in response.context["cl"].result_list] == [wanted.pk]


def test_a_client_cannot_be_edited_in_the_admin(staff_client, make_client, app):
    client, _ = make_client(app, name="original")

    response = staff_client.post(reverse("admin:oauthapps_oauthclient_change", args=[client.pk]),
                                 {"name": "renamed", "skip_authorization": "on", "client_secret": "chosen"})

    assert response.status_code == 403
    client.refresh_from_db()
    assert (client.name, client.skip_authorization) == ("original", False)


def test_staff_add_a_client_and_see_its_secret_once_and_it_works(staff_client, staff, app, token_request):
    response = _add_client(staff_client, app)

    assert response.status_code == 302
    client = OAuthClient.objects.get(name="Staff client")
    assert (client.organization, client.created_by, client.skip_authorization) == (app.organization, staff, False)
    page = staff_client.get(response["Location"])
    html = page.content.decode()
    secret = re.search(r'id="secret-2" type="text" class="vTextField" size="80" value="([^"]+)"', html)[1]
    assert client.client_id in html
    assert "no-store" in page["Cache-Control"]
    token = token_request({"grant_type": "client_credentials"}, client, secret)
    assert token.status_code == 200, token.content
    assert AuditEvent.objects.get(action="oauth_client.created").actor_user == staff
    assert stored_text_containing(secret) == []

    again = staff_client.get(response["Location"])
    assert again.status_code == 410
    assert secret not in again.content.decode()


def test_a_public_client_added_by_staff_has_no_secret_to_show(staff_client, app):
    response = _add_client(staff_client, app, client_type="public", grant_types=["authorization_code"],
                           redirect_uris=REDIRECT_URI)

    assert response.status_code == 302
    html = staff_client.get(response["Location"]).content.decode()
    assert OAuthClient.objects.get(name="Staff client").client_id in html
    assert "Client secret" not in html


def test_a_client_the_service_refuses_shows_the_reason_in_the_add_form(staff_client, app):
    response = _add_client(staff_client, app, grant_types=["authorization_code"], redirect_uris="")

    assert response.status_code == 200
    assert "needs at least one redirect URI" in response.content.decode()
    assert not OAuthClient.objects.exists()


def test_rotating_a_secret_in_the_admin_shows_the_new_one_once(staff_client, staff, make_client, app, token_request):
    client, old_secret = make_client(app)

    response = staff_client.post(reverse("admin:oauthapps_oauthclient_changelist"),
                                 {"action": "rotate_secret", "_selected_action": [client.pk]})

    assert response.status_code == 302
    html = staff_client.get(response["Location"]).content.decode()
    new_secret = re.search(r'id="secret-2" type="text" class="vTextField" size="80" value="([^"]+)"', html)[1]
    assert new_secret != old_secret
    assert token_request({"grant_type": "client_credentials"}, client, new_secret).status_code == 200
    assert token_request({"grant_type": "client_credentials"}, client, old_secret).status_code == 401
    assert AuditEvent.objects.get(action="oauth_client.secret_rotated").actor_user == staff


def test_deleting_a_client_in_the_admin_is_audited_and_its_tokens_stop(staff_client, staff, cc_token, api_client):
    client, token = cc_token

    response = staff_client.post(reverse("admin:oauthapps_oauthclient_delete", args=[client.pk]), {"post": "yes"})

    assert response.status_code == 302
    assert not OAuthClient.objects.filter(pk=client.pk).exists()
    assert AuditEvent.objects.get(action="oauth_client.deleted").actor_user == staff
    assert api_client(token, header="Bearer").get("/api/v1/hello").status_code == 401


# Tokens ------------------------------------------------------------------------------------------------------


def test_no_token_page_shows_the_token_or_its_checksum(staff_client, cc_token):
    _client, token = cc_token
    stored = AccessToken.objects.get()
    assert stored.token_checksum

    for url in (reverse("admin:oauth2_provider_accesstoken_changelist"),
                reverse("admin:oauth2_provider_accesstoken_change", args=[stored.pk])):
        response = staff_client.get(url)
        html = response.content.decode()
        assert response.status_code == 200
        assert token not in html
        assert stored.token_checksum not in html
        assert "token_checksum" not in html


def test_the_access_token_list_names_the_organization_the_token_acts_in(staff_client, cc_token, org):
    response = staff_client.get(reverse("admin:oauth2_provider_accesstoken_changelist"))

    assert response.status_code == 200
    assert f">{org.name}<" in response.content.decode()


def test_revoking_access_tokens_in_the_admin_stops_them_and_is_audited(staff_client, staff, cc_token, api_client):
    client, token = cc_token
    assert api_client(token, header="Bearer").get("/api/v1/hello").status_code == 200

    response = staff_client.post(reverse("admin:oauth2_provider_accesstoken_changelist"),
                                 {"action": "revoke_tokens", "_selected_action": [AccessToken.objects.get().pk]})

    assert response.status_code == 302
    assert api_client(token, header="Bearer").get("/api/v1/hello").status_code == 401
    event = AuditEvent.objects.get(action="oauth_token.revoked")
    assert (event.actor_user, event.organization, event.metadata["clientId"]) == (staff, client.organization,
                                                                                   client.client_id)


def test_revoking_an_access_token_also_revokes_its_refresh_token(staff_client, login, developer, make_client, app,
                                                                 org, code_tokens, token_request):
    client, secret = make_client(app, grants=("authorization_code", "refresh_token"))
    tokens = code_tokens(login(developer), client, secret, org.slug)

    staff_client.post(reverse("admin:oauth2_provider_accesstoken_changelist"),
                      {"action": "revoke_tokens", "_selected_action": [AccessToken.objects.get().pk]})

    refreshed = token_request({"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
                              client, secret)
    assert refreshed.status_code == 400
    assert refreshed.json()["error"] == "invalid_grant"
    assert not AccessToken.objects.exists()


def test_revoking_refresh_tokens_in_the_admin_stops_them_and_is_audited(staff_client, staff, login, developer,
                                                                        make_client, app, org, code_tokens,
                                                                        token_request, api_client):
    client, secret = make_client(app, grants=("authorization_code", "refresh_token"))
    tokens = code_tokens(login(developer), client, secret, org.slug)
    refresh = RefreshToken.objects.get()

    page = staff_client.get(reverse("admin:oauth2_provider_refreshtoken_change", args=[refresh.pk])).content.decode()
    response = staff_client.post(reverse("admin:oauth2_provider_refreshtoken_changelist"),
                                 {"action": "revoke_tokens", "_selected_action": [refresh.pk]})

    assert tokens["refresh_token"] not in page and refresh.token_checksum not in page
    assert response.status_code == 302
    assert api_client(tokens["access_token"], header="Bearer").get("/api/v1/hello").status_code == 401
    refreshed = token_request({"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
                              client, secret)
    assert refreshed.status_code == 400
    assert AuditEvent.objects.get(action="oauth_token.revoked").actor_user == staff


@pytest.mark.parametrize("model_name", ["accesstoken", "refreshtoken", "grant", "idtoken"])
def test_tokens_and_codes_cannot_be_added_in_the_admin(staff_client, model_name):
    response = staff_client.get(reverse(f"admin:oauth2_provider_{model_name}_add"))

    assert response.status_code == 403


def test_an_authorization_code_is_listed_but_never_shown(staff_client, login, developer, make_client, app, org,
                                                         authorize_code):
    client, _secret = make_client(app, grants=("authorization_code",))
    code, _verifier = authorize_code(login(developer), client, org.slug)
    grant = Grant.objects.get()

    listing = staff_client.get(reverse("admin:oauth2_provider_grant_changelist")).content.decode()
    page = staff_client.get(reverse("admin:oauth2_provider_grant_change", args=[grant.pk])).content.decode()

    assert client.name in listing
    for html in (listing, page):
        assert code not in html
        assert grant.code not in html


@pytest.mark.parametrize("url_name", ["admin:index", "admin:oauthapps_oauthclient_add", "admin:apikeys_apikey_add",
                                      "admin:oauth2_provider_grant_changelist",
                                      "admin:oauth2_provider_refreshtoken_changelist",
                                      "admin:oauth2_provider_idtoken_changelist"])
def test_admin_pages_render_for_staff(staff_client, app, url_name):
    response = staff_client.get(reverse(url_name))

    assert response.status_code == 200


def test_signing_keys_and_device_codes_are_listed_without_their_secrets(staff_client, app, make_client):
    from oauthapps.device_authorization import device_grant_create
    from oauthapps.models import SigningKey
    from oauthapps.signing_keys import current_signing_key

    kid = current_signing_key().kid
    client = make_client(app, grants=("urn:ietf:params:oauth:grant-type:device_code",), client_type="public")[0]
    grant = device_grant_create(client=client, device_code="the-device-code", user_code="BCDFGHJK", scope="",
                                interval=5)
    key = SigningKey.objects.get()
    keys_page = staff_client.get(reverse("admin:oauthapps_signingkey_change", args=[key.pk]))
    assert keys_page.status_code == 200 and kid.encode() in keys_page.content
    assert key.encrypted_private_key.encode() not in keys_page.content
    device_page = staff_client.get(reverse("admin:oauth2_provider_devicegrant_change", args=[grant.pk]))
    assert device_page.status_code == 200 and client.client_id.encode() in device_page.content
    assert grant.device_code.encode() not in device_page.content and b"BCDFGHJK" not in device_page.content
    listing = staff_client.get(reverse("admin:oauth2_provider_devicegrant_changelist"))
    assert listing.status_code == 200
