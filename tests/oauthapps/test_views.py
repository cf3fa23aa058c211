"""The dashboard pages of OAuth clients and "Authorized applications", used as a person would (Django's Client)."""

from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from oauth2_provider.models import AccessToken, RefreshToken

from audit.models import AuditEvent
from oauthapps.models import OAuthClient
from tests.helpers import stored_text_containing

pytestmark = pytest.mark.django_db

CALLBACK = "https://client.example.com/callback"


def _client_form(**overrides) -> dict:
    data = {"name": "Billing worker", "client_type": "confidential", "grant_types": ["client_credentials"],
            "redirect_uris": "", "allowed_scopes": ["apps:read"], "rate_limit_per_minute": ""}
    data.update(overrides)
    return data


def _edit_form(client: OAuthClient, **overrides) -> dict:
    data = {"name": client.name, "grant_types": client.grant_types,
            "redirect_uris": "\n".join(client.redirect_uris.split()), "allowed_scopes": client.allowed_scopes,
            "rate_limit_per_minute": client.rate_limit_per_minute or ""}
    data.update(overrides)
    return data


def _register(browser: Client, org, app, **overrides):
    """POST the registration form and follow to the show-once page; return that page."""
    response = browser.post(reverse("client-create", args=[org.slug, app.pk]), _client_form(**overrides))
    assert response.status_code == 302, response.content.decode()
    assert response["Location"] == reverse("client-secret-shown", args=[org.slug])
    page = browser.get(response["Location"])
    assert page.status_code == 200
    return page


def _token(client_id: str, secret: str):
    """A client-credentials token request to /oauth/token/, the client authenticating with HTTP Basic."""
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return Client().post("/oauth/token/", urlencode({"grant_type": "client_credentials"}),
                         content_type="application/x-www-form-urlencoded", HTTP_AUTHORIZATION=f"Basic {basic}")


def _api(path: str, token: str) -> int:
    return Client().get(path, HTTP_AUTHORIZATION=f"Bearer {token}").status_code


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


# --- Registering a client, shown once -----------------------------------------------------------------------


def test_a_confidential_client_is_shown_once_and_its_secret_gets_tokens(org, developer, login, app) -> None:
    browser = login(developer)
    page = _register(browser, org, app, rate_limit_per_minute="50")

    shown = page.context["secret"]
    client = OAuthClient.objects.get(organization=org)
    assert (client.name, client.client_type, client.grant_types, client.allowed_scopes, client.rate_limit_per_minute,
            client.application, client.created_by) == (
        "Billing worker", "confidential", ["client_credentials"], ["apps:read"], 50, app, developer)
    assert shown["client_id"] == client.client_id
    html = page.content.decode()
    assert shown["client_secret"] in html and client.client_id in html
    assert "You won't see it again" in html and 'data-copy-target="#client-secret"' in html
    assert "no-store" in page["Cache-Control"]
    for snippet in ("/oauth/token/", "grant_type=client_credentials", "/api/v1/auth", "clientSecret",
                    "import requests", "await fetch(", "/api/v1/hello", "Authorization: Bearer $TOKEN"):
        assert snippet in html, snippet

    token = _token(client.client_id, shown["client_secret"])
    assert token.status_code == 200, token.content
    assert _api("/api/v1/hello?name=Test", token.json()["access_token"]) == 200

    again = browser.get(reverse("client-secret-shown", args=[org.slug]))
    assert again.status_code == 410
    assert shown["client_secret"] not in again.content.decode() and "already shown" in again.content.decode()
    assert AuditEvent.objects.filter(action="oauth_client.created", target_id=str(client.pk)).exists()


def test_snippets_use_the_configured_base_url(org, developer, login, app, settings) -> None:
    settings.PORTAL = {**getattr(settings, "PORTAL", {}), "BASE_URL": "https://dev.example.org/"}
    html = _register(login(developer), org, app).content.decode()
    assert "https://dev.example.org/oauth/token/" in html and "https://dev.example.org/api/v1/hello" in html


def test_a_public_client_shows_its_id_and_the_pkce_outline_but_no_secret(org, developer, login, app) -> None:
    page = _register(login(developer), org, app, client_type="public", grant_types=["authorization_code"],
                     redirect_uris=CALLBACK)

    client = OAuthClient.objects.get(organization=org)
    assert client.client_type == "public" and client.redirect_uris == CALLBACK
    assert page.context["secret"]["client_secret"] is None
    html = page.content.decode()
    assert client.client_id in html and "Client secret" not in html and 'id="client-secret"' not in html
    assert "code_challenge_method=S256" in html and "code_verifier" in html


def test_the_secret_goes_into_no_message_no_url_and_nowhere_in_the_database(org, developer, login, app) -> None:
    browser = login(developer)
    response = browser.post(reverse("client-create", args=[org.slug, app.pk]), _client_form(), follow=True)

    secret = response.context["secret"]["client_secret"]
    assert all(secret not in url for url, _status in response.redirect_chain)
    assert all(secret not in message for message in _messages(response))
    assert stored_text_containing(secret) == []
    for page in (reverse("app-detail", args=[org.slug, app.pk]),
                 reverse("client-detail", args=[org.slug, OAuthClient.objects.get().pk])):
        assert secret not in browser.get(page).content.decode()


def test_the_show_once_pages_of_keys_and_clients_leave_each_other_s_secret_alone(org, developer, login, app) -> None:
    browser = login(developer)
    browser.post(reverse("client-create", args=[org.slug, app.pk]), _client_form())

    assert browser.get(reverse("key-created", args=[org.slug])).status_code == 410
    page = browser.get(reverse("client-secret-shown", args=[org.slug]))
    assert page.status_code == 200 and page.context["secret"]["client_secret"]

    browser.post(reverse("key-create", args=[org.slug, app.pk]),
                 {"name": "k", "scope_preset": "READ_ONLY", "expires_in_days": "30", "environment": "live"})
    assert browser.get(reverse("client-secret-shown", args=[org.slug])).status_code == 410
    assert browser.get(reverse("key-created", args=[org.slug])).status_code == 200


def test_http_on_loopback_is_accepted_as_a_redirect_uri(org, developer, login, app) -> None:
    uris = "http://127.0.0.1:8080/callback\nhttp://localhost/cb\n" + CALLBACK
    _register(login(developer), org, app, grant_types=["authorization_code", "refresh_token"], redirect_uris=uris)
    client = OAuthClient.objects.get(organization=org)
    assert client.redirect_uris.split() == uris.split()
    assert client.grant_types == ["authorization_code", "refresh_token"]


@pytest.mark.parametrize(("uri", "words"), [
    ("https://*.example.com/callback", "Wildcards are not allowed"),
    ("https://client.example.com/callback#done", "cannot have a fragment"),
    ("http://client.example.com/callback", "Plain http is allowed only for loopback"),
    ("ftp://client.example.com/callback", "Use https"),
    ("myapp://callback", "Use https"),
    ("https:///callback", "needs a host"),
    ("https://user:pw@client.example.com/callback", "cannot carry a user name or password"),
    ("https://client.example.com:99999/cb", "not a valid URI"),
])
def test_each_refused_redirect_uri_is_explained_next_to_the_field_and_nothing_is_stored(
        org, developer, login, app, uri, words) -> None:
    data = _client_form(grant_types=["authorization_code"], redirect_uris=f"{CALLBACK}\n{uri}")
    response = login(developer).post(reverse("client-create", args=[org.slug, app.pk]), data)

    assert response.status_code == 400
    errors = response.context["form"].errors["redirect_uris"]
    assert any(uri in error and words in error for error in errors), errors
    html = response.content.decode()
    assert words in html and "exact match; no wildcards or fragments" in html
    assert not OAuthClient.objects.exists()


@pytest.mark.parametrize(("data", "field"), [
    ({"name": ""}, "name"),
    ({"grant_types": []}, "grant_types"),
    ({"grant_types": ["password"]}, "grant_types"),
    ({"grant_types": ["implicit"]}, "grant_types"),
    ({"client_type": "public", "grant_types": ["client_credentials"]}, "grant_types"),
    ({"grant_types": ["refresh_token"]}, "grant_types"),
    ({"grant_types": ["authorization_code"], "redirect_uris": ""}, "redirect_uris"),
    ({"allowed_scopes": []}, "allowed_scopes"),
    ({"allowed_scopes": ["orders:delete"]}, "allowed_scopes"),
    ({"rate_limit_per_minute": "0"}, "rate_limit_per_minute"),
    ({"client_type": "other"}, "client_type"),
])
def test_invalid_registration_is_a_form_error_and_stores_nothing(org, developer, login, app, data, field) -> None:
    response = login(developer).post(reverse("client-create", args=[org.slug, app.pk]), _client_form(**data))
    assert response.status_code == 400
    assert response.context["form"].errors[field]
    assert not OAuthClient.objects.exists()


@pytest.mark.parametrize("scope", ["team:write", "admin"])
def test_a_developer_cannot_give_a_client_scopes_beyond_their_role(org, developer, login, app, scope) -> None:
    browser = login(developer)
    form_page = browser.get(reverse("client-create", args=[org.slug, app.pk])).content.decode()
    assert f'value="{scope}"' not in form_page and 'value="apps:write"' in form_page

    response = browser.post(reverse("client-create", args=[org.slug, app.pk]),
                            _client_form(allowed_scopes=["apps:read", scope]))

    assert response.status_code == 400
    assert f"Your role cannot grant {scope}" in response.content.decode()
    assert not OAuthClient.objects.exists()


def test_an_owner_may_give_a_client_every_scope(org, owner, login, app) -> None:
    _register(login(owner), org, app, allowed_scopes=["team:write", "admin"])
    assert OAuthClient.objects.get().allowed_scopes == ["team:write", "admin"]


# --- Detail, edit, rotate, delete ---------------------------------------------------------------------------


def test_the_detail_page_shows_everything_but_the_secret(org, viewer, login, app, make_client) -> None:
    client, secret = make_client(app, grants=("authorization_code", "refresh_token"), scopes=("apps:read", "keys:read"),
                                 rate_limit_per_minute=30)
    response = login(viewer).get(reverse("client-detail", args=[org.slug, client.pk]))

    assert response.status_code == 200
    html = response.content.decode()
    for text in (client.client_id, 'data-copy-target="#client-id"', "Confidential", "authorization_code",
                 "refresh_token", CALLBACK, "apps:read", "keys:read", "30 requests a minute", "Created"):
        assert text in html, text
    assert secret not in html
    assert response.context["form"] is None and "Rotate secret" not in html  # a viewer reads only


def test_a_developer_edits_redirect_uris_grants_scopes_name_and_rate_limit(org, developer, login, app,
                                                                          make_client) -> None:
    client, _ = make_client(app, grants=("client_credentials",))
    url = reverse("client-edit", args=[org.slug, client.pk])
    response = login(developer).post(url, _edit_form(
        client, name="Renamed", grant_types=["client_credentials", "authorization_code"],
        redirect_uris=f"{CALLBACK}\nhttp://127.0.0.1:9000/cb", allowed_scopes=["apps:read", "apps:write"],
        rate_limit_per_minute="20"))

    assert response.status_code == 302 and response["Location"] == reverse("client-detail", args=[org.slug, client.pk])
    client.refresh_from_db()
    assert (client.name, client.grant_types, client.redirect_uris.split(), client.allowed_scopes,
            client.rate_limit_per_minute) == ("Renamed", ["authorization_code", "client_credentials"],
                                              [CALLBACK, "http://127.0.0.1:9000/cb"], ["apps:read", "apps:write"], 20)
    event = AuditEvent.objects.get(action="oauth_client.updated")
    assert {"name", "grant_types", "redirect_uris", "allowed_scopes", "rate_limit_per_minute"} <= set(
        event.metadata["fields"])


def test_a_bad_redirect_uri_in_an_edit_is_shown_on_the_page_and_changes_nothing(org, developer, login, app,
                                                                               make_client) -> None:
    client, _ = make_client(app, grants=("authorization_code",))
    response = login(developer).post(reverse("client-edit", args=[org.slug, client.pk]),
                                     _edit_form(client, name="New", redirect_uris="https://*.evil.example/cb"))

    assert response.status_code == 400
    assert "Wildcards are not allowed" in response.content.decode()
    client.refresh_from_db()
    assert client.name == "test client" and client.redirect_uris == CALLBACK


def test_a_developer_renames_a_client_holding_scopes_beyond_their_role_without_losing_them(
        org, developer, login, app, make_client) -> None:
    client, _ = make_client(app, scopes=("apps:read", "team:write"))
    browser = login(developer)
    assert 'value="team:write"' in browser.get(reverse("client-detail", args=[org.slug, client.pk])).content.decode()

    renamed = browser.post(reverse("client-edit", args=[org.slug, client.pk]), _edit_form(client, name="Renamed"))
    assert renamed.status_code == 302
    widened = browser.post(reverse("client-edit", args=[org.slug, client.pk]),
                           _edit_form(client, allowed_scopes=["apps:read", "team:write", "admin"]))
    assert widened.status_code == 400 and "Your role cannot grant" in widened.content.decode()
    client.refresh_from_db()
    assert client.name == "Renamed" and client.allowed_scopes == ["apps:read", "team:write"]


def test_rotation_asks_first_then_the_new_secret_works_and_the_old_one_fails(org, developer, login, app,
                                                                            make_client) -> None:
    client, old_secret = make_client(app)
    browser = login(developer)
    url = reverse("client-rotate", args=[org.slug, client.pk])
    confirm = browser.get(url)
    assert confirm.status_code == 200 and "stops working" in confirm.content.decode()
    assert _token(client.client_id, old_secret).status_code == 200

    response = browser.post(url)
    assert response.status_code == 302 and response["Location"] == reverse("client-secret-shown", args=[org.slug])
    page = browser.get(response["Location"])
    new_secret = page.context["secret"]["client_secret"]
    assert page.context["secret"]["rotated"] and new_secret != old_secret and new_secret in page.content.decode()

    assert _token(client.client_id, new_secret).status_code == 200
    assert _token(client.client_id, old_secret).status_code == 401
    assert browser.get(response["Location"]).status_code == 410
    assert AuditEvent.objects.filter(action="oauth_client.secret_rotated").count() == 1


def test_a_public_client_has_no_secret_to_rotate(org, developer, login, app, make_client) -> None:
    client, _ = make_client(app, grants=("authorization_code",), client_type="public")
    response = login(developer).post(reverse("client-rotate", args=[org.slug, client.pk]))
    assert response.status_code == 400 and "no secret to rotate" in response.content.decode()


def test_delete_asks_first_then_the_client_and_its_tokens_are_gone(org, developer, login, app, make_client) -> None:
    client, secret = make_client(app)
    token = _token(client.client_id, secret).json()["access_token"]
    assert _api("/api/v1/hello", token) == 200
    browser = login(developer)
    url = reverse("client-delete", args=[org.slug, client.pk])

    assert browser.get(url).status_code == 200 and OAuthClient.objects.filter(pk=client.pk).exists()
    response = browser.post(url, follow=True)

    assert response.redirect_chain[-1][0] == reverse("app-detail", args=[org.slug, app.pk])
    assert not OAuthClient.objects.filter(pk=client.pk).exists()
    assert any("has been deleted" in message for message in _messages(response))
    assert _api("/api/v1/hello", token) == 401
    assert _token(client.client_id, secret).status_code == 401
    assert browser.get(reverse("client-detail", args=[org.slug, client.pk])).status_code == 404


# --- Who may see and do what ----------------------------------------------------------------------------------


def _urls(org, app, client) -> dict[str, str]:
    return {
        "client-create": reverse("client-create", args=[org.slug, app.pk]),
        "client-secret-shown": reverse("client-secret-shown", args=[org.slug]),
        "client-detail": reverse("client-detail", args=[org.slug, client.pk]),
        "client-edit": reverse("client-edit", args=[org.slug, client.pk]),
        "client-rotate": reverse("client-rotate", args=[org.slug, client.pk]),
        "client-delete": reverse("client-delete", args=[org.slug, client.pk]),
    }


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("name", ["client-create", "client-secret-shown", "client-detail", "client-edit",
                                  "client-rotate", "client-delete"])
def test_an_outsider_gets_404_on_every_page(org, app, make_client, outsider, login, name, method) -> None:
    client, secret = make_client(app)
    response = getattr(login(outsider), method)(_urls(org, app, client)[name], _client_form(name="Stolen"))

    allowed = {("client-secret-shown", "post"): (404, 405), ("client-detail", "post"): (404, 405),
               ("client-edit", "get"): (404, 405)}
    assert response.status_code in allowed.get((name, method), (404,))
    assert list(OAuthClient.objects.values_list("name", flat=True)) == ["test client"]
    assert _token(client.client_id, secret).status_code == 200


@pytest.mark.parametrize("name", ["client-create", "client-detail", "client-edit", "client-rotate", "client-delete"])
def test_ids_of_another_organization_are_404_under_my_own(org, owner, other_app, make_client, login, name) -> None:
    foreign, secret = make_client(other_app)
    browser, url = login(owner), _urls(org, other_app, foreign)[name]
    if name != "client-edit":
        assert browser.get(url).status_code == 404
    if name != "client-detail":
        assert browser.post(url, _client_form(name="Stolen")).status_code == 404

    foreign.refresh_from_db()
    assert foreign.name == "test client" and OAuthClient.objects.count() == 1
    assert _token(foreign.client_id, secret).status_code == 200


def test_anonymous_visitors_are_sent_to_sign_in(org, app, make_client) -> None:
    client, _ = make_client(app)
    for url in [*_urls(org, app, client).values(), reverse("authorized-apps")]:
        response = Client().get(url)
        assert response.status_code in (302, 405) and (response.status_code == 405
                                                       or response["Location"].startswith(reverse("login")))


@pytest.mark.parametrize(("method", "name"), [
    ("get", "client-create"), ("post", "client-create"), ("post", "client-edit"), ("get", "client-rotate"),
    ("post", "client-rotate"), ("get", "client-delete"), ("post", "client-delete"),
])
def test_a_viewer_cannot_register_change_rotate_or_delete_clients(org, app, make_client, viewer, login, method,
                                                                 name) -> None:
    client, secret = make_client(app)
    response = getattr(login(viewer), method)(_urls(org, app, client)[name], _edit_form(client, name="Changed"))

    assert response.status_code == 403
    assert list(OAuthClient.objects.values_list("name", flat=True)) == ["test client"]
    assert _token(client.client_id, secret).status_code == 200
    assert not AuditEvent.objects.filter(action__in=["oauth_client.updated", "oauth_client.secret_rotated",
                                                     "oauth_client.deleted"]).exists()


def test_an_empty_post_is_a_form_error_not_a_blank_page(org, owner, login, app, make_client) -> None:
    client, _ = make_client(app)
    for name in ("client-create", "client-edit"):
        response = login(owner).post(_urls(org, app, client)[name], {})
        assert response.status_code == 400 and response.context["form"].errors
    assert OAuthClient.objects.get().name == "test client"


# --- Authorized applications -----------------------------------------------------------------------------------


def _authorize(browser: Client, client: OAuthClient, secret: str, organization: str,
               scope: str = "apps:read") -> dict:
    """The authorization-code flow with PKCE (S256) through the consent page; returns the token response."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    query = {"response_type": "code", "client_id": client.client_id, "redirect_uri": CALLBACK, "scope": scope,
             "state": "s-1", "code_challenge": challenge, "code_challenge_method": "S256"}
    page = browser.get("/oauth/authorize/?" + urlencode(query))
    assert page.status_code == 200, page.content.decode()
    form = page.context["form"]
    hidden = {field.name: field.value() for field in form if field.is_hidden and field.value() is not None}
    answer = browser.post("/oauth/authorize/", {**hidden, "organization": organization, "allow": "Authorize"})
    assert answer.status_code == 302 and answer["Location"].startswith(CALLBACK), answer.content.decode()
    code = parse_qs(urlsplit(answer["Location"]).query)["code"][0]
    basic = base64.b64encode(f"{client.client_id}:{secret}".encode()).decode()
    tokens = Client().post("/oauth/token/", urlencode({
        "grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK, "code_verifier": verifier,
    }), content_type="application/x-www-form-urlencoded", HTTP_AUTHORIZATION=f"Basic {basic}")
    assert tokens.status_code == 200, tokens.content.decode()
    return tokens.json()


def test_authorized_applications_lists_a_client_the_person_authorised_and_revoke_ends_its_access(
        org, other_org, other_app, developer, login, make_client) -> None:
    client, secret = make_client(other_app, grants=("authorization_code", "refresh_token"),
                                 scopes=("apps:read", "keys:read"), name="Globex dashboard")
    browser = login(developer)
    tokens = _authorize(browser, client, secret, org.slug, scope="apps:read keys:read")
    assert _api("/api/v1/me", tokens["access_token"]) == 200

    page = browser.get(reverse("authorized-apps"))
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    [item] = page.context["authorized"]
    assert (item.client, item.scopes, item.organizations) == (client, ["apps:read", "keys:read"], ["Acme"])
    html = page.content.decode()
    assert "Globex dashboard" in html and "Globex" in html and "keys:read" in html
    assert reverse("authorized-app-revoke", args=[client.pk]) in html

    response = browser.post(reverse("authorized-app-revoke", args=[client.pk]), follow=True)

    assert response.redirect_chain[-1][0] == reverse("authorized-apps")
    assert response.context["authorized"] == [] and "no longer has access" in " ".join(_messages(response))
    assert _api("/api/v1/me", tokens["access_token"]) == 401
    assert not AccessToken.objects.filter(user=developer).exists()
    assert not RefreshToken.objects.filter(user=developer, revoked__isnull=True).exists()
    assert AuditEvent.objects.filter(action="oauth_consent.revoked", actor_user=developer).exists()


def test_a_person_cannot_revoke_other_people_s_grants(org, developer, owner, login, app, make_client) -> None:
    client, secret = make_client(app, grants=("authorization_code",))
    tokens = _authorize(login(owner), client, secret, org.slug)

    assert login(developer).get(reverse("authorized-apps")).context["authorized"] == []
    response = login(developer).post(reverse("authorized-app-revoke", args=[client.pk]))

    assert response.status_code == 404
    assert _api("/api/v1/me", tokens["access_token"]) == 200


def test_client_credentials_tokens_are_no_one_s_authorized_application(org, developer, login, app,
                                                                       make_client) -> None:
    client, secret = make_client(app)
    assert _token(client.client_id, secret).status_code == 200
    assert login(developer).get(reverse("authorized-apps")).context["authorized"] == []


def test_the_user_menu_links_to_authorized_applications(org, developer, login) -> None:
    html = login(developer).get(reverse("dashboard")).content.decode()
    assert f'href="{reverse("authorized-apps")}"' in html


# --- Constant queries ---------------------------------------------------------------------------------------


def _count_queries(browser: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert browser.get(url).status_code == 200
    return len(queries)


def test_authorized_applications_runs_the_same_number_of_queries_for_1_and_4_clients(org, developer, login,
                                                                                    app, make_client) -> None:
    browser = login(developer)
    url = reverse("authorized-apps")

    def authorise(number: int) -> None:
        client, secret = make_client(app, grants=("authorization_code", "refresh_token"), name=f"client {number}")
        _authorize(browser, client, secret, org.slug)

    authorise(0)
    few = _count_queries(browser, url)
    for number in range(1, 4):
        authorise(number)
    many = _count_queries(browser, url)

    assert len(browser.get(url).context["authorized"]) == 4
    assert few == many
