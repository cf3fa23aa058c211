"""``create_oauth_client``, ``provision_plugin``, ``plugin_env``, ``rotate_encryption_keys`` and
``purge_expired``: what an operator runs, and what they print."""

from __future__ import annotations

import re
from datetime import timedelta
from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.conf import settings
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.utils import timezone
from oauth2_provider.models import AccessToken, Grant, RefreshToken

from apikeys.models import ApiKey
from applications.models import Application
from audit.models import AuditEvent
from oauthapps.models import OAuthClient, PluginCredential, SpentAuthorizationCode
from oauthapps.services.clients import oauth_client_rotate_secret
from portal.callers import Caller
from tests.helpers import stored_text_containing
from tests.oauthapps.conftest import REDIRECT_URI

pytestmark = pytest.mark.django_db


def run(name: str, *args: str) -> str:
    out = StringIO()
    call_command(name, *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def labelled(output: str) -> dict[str, str]:
    return dict(re.findall(r"^(\w+): (.*)$", output, re.M))


def env_lines(output: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in output.splitlines())


def with_encryption_keys(*keys: bytes):
    return override_settings(PORTAL={**settings.PORTAL, "ENCRYPTION_KEYS": [key.decode() for key in keys]})


# create_oauth_client ------------------------------------------------------------------------------------------


def test_create_oauth_client_prints_a_client_that_works_at_the_token_endpoint(org, token_request):
    lines = labelled(run("create_oauth_client", "--org", "acme", "--name", "worker", "--grant", "client_credentials",
                         "--scopes", "apps:read", "keys:read", "--rate-limit", "50"))

    client = OAuthClient.objects.get(client_id=lines["client_id"])
    assert (client.name, client.organization, client.application.name) == ("worker", org, "Default")
    assert (client.allowed_scopes, client.rate_limit_per_minute) == (["apps:read", "keys:read"], 50)
    response = token_request({"grant_type": "client_credentials", "scope": "keys:read"}, client,
                             lines["client_secret"])
    assert response.status_code == 200, response.content
    assert stored_text_containing(lines["client_secret"]) == []


def test_grants_and_redirect_uris_repeat_and_a_public_client_has_no_secret(org):
    lines = labelled(run("create_oauth_client", "--org", "acme", "--name", "spa", "--public", "--app", "Web",
                         "--grant", "authorization_code", "--grant", "refresh_token",
                         "--redirect-uri", REDIRECT_URI, "--redirect-uri", "http://127.0.0.1:8080/cb"))

    client = OAuthClient.objects.get(client_id=lines["client_id"])
    assert client.client_type == "public"
    assert client.grant_types == ["authorization_code", "refresh_token"]
    assert client.redirect_uris.split() == [REDIRECT_URI, "http://127.0.0.1:8080/cb"]
    assert client.application == Application.objects.get(organization=org, name="Web")
    assert "client_secret" not in lines


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--org", "nope", "--grant", "client_credentials"], "No organization with slug 'nope'"),
        (["--org", "acme", "--grant", "password"], "Not offered: password"),
        (["--org", "acme", "--grant", "authorization_code"], "needs at least one redirect URI"),
        (["--org", "acme", "--grant", "authorization_code", "--redirect-uri", "http://example.com/cb"], "http"),
        (["--org", "acme", "--grant", "client_credentials", "--public"], "cannot use client_credentials"),
        (["--org", "acme", "--grant", "client_credentials", "--scopes", "orders:eat"], "Unknown scope"),
    ],
)
def test_create_oauth_client_refuses_bad_input_with_the_services_message(org, args, message):
    with pytest.raises(CommandError, match=message):
        run("create_oauth_client", "--name", "x", *args)
    assert not OAuthClient.objects.exists()


# provision_plugin, plugin_env -----------------------------------------------------------------------------------


def test_provision_plugin_prints_three_env_lines_of_a_working_client(org, token_request):
    output = run("provision_plugin", "billing-sync", "--org", "acme", "--scopes", "apps:read", "keys:read")

    assert [line.split("=", 1)[0] for line in output.splitlines()] == [
        "OAUTH_CLIENT_ID", "OAUTH_CLIENT_SECRET", "API_BASE_URL"]
    env = env_lines(output)
    assert env["API_BASE_URL"] == f"{settings.PORTAL['BASE_URL']}/api/v1"
    client = OAuthClient.objects.get(client_id=env["OAUTH_CLIENT_ID"])
    assert (client.name, client.application.name, client.grant_types) == ("billing-sync", "Plugins",
                                                                         ["client_credentials"])
    assert client.allowed_scopes == ["apps:read", "keys:read"]
    assert token_request({"grant_type": "client_credentials"}, client, env["OAUTH_CLIENT_SECRET"]).status_code == 200
    assert AuditEvent.objects.filter(action="oauth_client.created", target_id=str(client.pk)).exists()
    assert AuditEvent.objects.filter(action="plugin.provisioned").exists()


def test_the_plugin_secret_is_stored_only_encrypted(org):
    env = env_lines(run("provision_plugin", "billing-sync", "--org", "acme", "--scopes", "apps:read"))

    assert stored_text_containing(env["OAUTH_CLIENT_SECRET"]) == []
    assert PluginCredential.objects.get(name="billing-sync").encrypted_secret


def test_provisioning_a_plugin_again_creates_nothing_and_prints_the_same_lines(org):
    first = run("provision_plugin", "billing-sync", "--org", "acme", "--scopes", "apps:read")
    err = StringIO()
    out = StringIO()
    call_command("provision_plugin", "billing-sync", "--org", "acme", "--scopes", "apps:read", stdout=out, stderr=err)

    assert out.getvalue() == first
    assert "already exists" in err.getvalue()
    assert OAuthClient.objects.count() == PluginCredential.objects.count() == 1


def test_a_plugin_name_belongs_to_one_organization(org, other_org):
    run("provision_plugin", "billing-sync", "--org", "acme", "--scopes", "apps:read")

    with pytest.raises(CommandError, match="another organization"):
        run("provision_plugin", "billing-sync", "--org", "globex", "--scopes", "apps:read")


@pytest.mark.parametrize(("name", "message"), [("Billing Sync", "lower-case"), ("", "lower-case")])
def test_a_plugin_name_must_be_a_slug(org, name, message):
    with pytest.raises(CommandError, match=message):
        run("provision_plugin", name, "--org", "acme", "--scopes", "apps:read")
    assert not OAuthClient.objects.exists()


def test_plugin_env_prints_the_same_lines_again(org):
    provisioned = run("provision_plugin", "billing-sync", "--org", "acme", "--scopes", "apps:read")

    assert run("plugin_env", "billing-sync") == provisioned


def test_plugin_env_follows_a_rotated_secret(org):
    env = env_lines(run("provision_plugin", "billing-sync", "--org", "acme", "--scopes", "apps:read"))
    client = OAuthClient.objects.get(client_id=env["OAUTH_CLIENT_ID"])

    _client, new_secret = oauth_client_rotate_secret(caller=Caller.system(org), client=client)

    assert env_lines(run("plugin_env", "billing-sync"))["OAUTH_CLIENT_SECRET"] == new_secret


def test_plugin_env_of_an_unknown_plugin_is_an_error(db):
    with pytest.raises(CommandError, match="No plugin named 'ghost'"):
        run("plugin_env", "ghost")


def test_plugin_env_explains_a_secret_no_configured_key_can_read(org):
    with with_encryption_keys(Fernet.generate_key()):
        run("provision_plugin", "billing-sync", "--org", "acme", "--scopes", "apps:read")
    with with_encryption_keys(Fernet.generate_key()), pytest.raises(CommandError, match="PORTAL_ENCRYPTION_KEYS"):
        run("plugin_env", "billing-sync")


# rotate_encryption_keys -----------------------------------------------------------------------------------------


def test_after_rotating_encryption_keys_the_old_key_can_be_dropped(org):
    old, new = Fernet.generate_key(), Fernet.generate_key()
    with with_encryption_keys(old):
        provisioned = run("provision_plugin", "billing-sync", "--org", "acme", "--scopes", "apps:read")
        run("provision_plugin", "reports", "--org", "acme", "--scopes", "apps:read")
    before = PluginCredential.objects.get(name="billing-sync").encrypted_secret

    with with_encryption_keys(new, old):
        assert run("rotate_encryption_keys") == "re-encrypted: 2\n"

    assert PluginCredential.objects.get(name="billing-sync").encrypted_secret != before
    with with_encryption_keys(new):
        assert run("plugin_env", "billing-sync") == provisioned
    with with_encryption_keys(old), pytest.raises(CommandError, match="PORTAL_ENCRYPTION_KEYS"):
        run("plugin_env", "billing-sync")


def test_rotating_without_the_old_key_changes_nothing_and_says_why(org):
    old = Fernet.generate_key()
    with with_encryption_keys(old):
        run("provision_plugin", "billing-sync", "--org", "acme", "--scopes", "apps:read")
    before = PluginCredential.objects.get().encrypted_secret

    with with_encryption_keys(Fernet.generate_key()), pytest.raises(CommandError, match="nothing was changed"):
        run("rotate_encryption_keys")
    assert PluginCredential.objects.get().encrypted_secret == before


# purge_expired --------------------------------------------------------------------------------------------------


@pytest.fixture
def cc_token(make_client, app, token_request):
    def _token():
        client, secret = make_client(app)
        response = token_request({"grant_type": "client_credentials"}, client, secret)
        assert response.status_code == 200, response.content
        return AccessToken.objects.get(application=client), response.json()["access_token"]

    return _token


def test_purge_expired_removes_what_is_dead_and_keeps_what_lives(org, app, make_key, make_client, cc_token,
                                                                 api_client, login, developer, code_tokens,
                                                                 authorize_code, token_request):
    now = timezone.now()
    expired_access, _ = cc_token()
    AccessToken.objects.filter(pk=expired_access.pk).update(expires=now - timedelta(minutes=1))
    live_access, live_token = cc_token()

    web, secret = make_client(app, grants=("authorization_code", "refresh_token"), name="web")
    browser = login(developer)
    code_tokens(browser, web, secret, org.slug)  # refresh token whose access token expired long ago: goes
    dormant = RefreshToken.objects.get(application=web)
    AccessToken.objects.filter(pk=dormant.access_token_id).update(expires=now - timedelta(days=31))
    code_tokens(browser, web, secret, org.slug)  # revoked 31 days ago: goes
    old_revoked = RefreshToken.objects.filter(application=web).exclude(pk=dormant.pk).get()
    old_revoked.revoke()
    RefreshToken.objects.filter(pk=old_revoked.pk).update(revoked=now - timedelta(days=31))
    code_tokens(browser, web, secret, org.slug)  # revoked just now (a reuse tombstone): stays
    recent_revoked = RefreshToken.objects.filter(application=web).exclude(pk__in=[dormant.pk, old_revoked.pk]).get()
    recent_revoked.revoke()
    live_refresh = code_tokens(browser, web, secret, org.slug)["refresh_token"]  # live: stays with its access token

    authorize_code(browser, web, org.slug)
    stale_code = Grant.objects.get()
    Grant.objects.filter(pk=stale_code.pk).update(expires=now - timedelta(seconds=1))
    authorize_code(browser, web, org.slug)
    fresh_code = Grant.objects.exclude(pk=stale_code.pk).get()

    old_spent = SpentAuthorizationCode.objects.filter(application=web).update(spent_at=now - timedelta(days=2))
    assert old_spent == 4  # one for each code redeemed above
    fresh_spent = SpentAuthorizationCode.objects.create(code_hash="f" * 64, application=web)

    long_expired, _ = make_key(app, name="long expired")
    long_revoked, _ = make_key(app, name="long revoked")
    recently_revoked, _ = make_key(app, name="recently revoked")
    live_key, live_plaintext = make_key(app, name="live")
    ApiKey.objects.filter(pk=long_expired.pk).update(expires_at=now - timedelta(days=91))
    ApiKey.objects.filter(pk=long_revoked.pk).update(revoked_at=now - timedelta(days=91))
    ApiKey.objects.filter(pk=recently_revoked.pk).update(revoked_at=now - timedelta(days=1))

    output = run("purge_expired", "--batch-size", "1")

    assert "access tokens: removed 2\n" in output  # the expired one and the dormant refresh token's
    assert "refresh tokens: removed 2\n" in output
    assert "authorization codes: removed 1\n" in output
    assert f"spent authorization codes: removed {old_spent}\n" in output
    assert "api keys: removed 2\n" in output
    assert set(ApiKey.objects.values_list("pk", flat=True)) == {recently_revoked.pk, live_key.pk}
    assert not AccessToken.objects.filter(pk=expired_access.pk).exists()
    assert RefreshToken.objects.filter(pk=recent_revoked.pk).exists()
    assert not RefreshToken.objects.filter(pk__in=[dormant.pk, old_revoked.pk]).exists()
    assert set(Grant.objects.values_list("pk", flat=True)) == {fresh_code.pk}
    assert SpentAuthorizationCode.objects.filter(pk=fresh_spent.pk).exists()
    assert api_client(live_token, header="Bearer").get("/api/v1/hello").status_code == 200
    assert api_client(live_plaintext).get("/api/v1/hello").status_code == 200
    assert AccessToken.objects.filter(pk=live_access.pk).exists()
    assert token_request({"grant_type": "refresh_token", "refresh_token": live_refresh}, web, secret).status_code == 200


def test_purge_expired_with_nothing_to_do_says_so_for_each_kind(db):
    output = run("purge_expired")

    assert output.splitlines() == [f"{kind}: removed 0" for kind in (
        "refresh tokens", "access tokens", "id tokens", "authorization codes", "device codes",
        "spent authorization codes", "api keys")]


def test_purge_expired_refuses_a_batch_size_below_one(db):
    with pytest.raises(CommandError, match="at least 1"):
        run("purge_expired", "--batch-size", "0")


# rotate_signing_key -------------------------------------------------------------------------------------------


def test_rotate_signing_key_prints_the_new_kid_and_what_stays_published(db):
    from oauthapps.models import SigningKey
    from oauthapps.signing_keys import current_signing_key

    first = current_signing_key().kid
    output = run("rotate_signing_key")
    new = SigningKey.objects.get(retired_at__isnull=True)
    lines = dict(line.split(": ", 1) for line in output.splitlines())
    assert lines["kid"] == new.kid != first
    assert lines["retired"] == first
    assert lines["published_until"] == (SigningKey.objects.get(kid=first).retired_at
                                        + timedelta(hours=1)).isoformat()
    assert current_signing_key().kid == new.kid
    assert AuditEvent.objects.filter(action="signing_key.rotated", metadata__kid=new.kid).exists()


def test_purge_expired_removes_expired_device_codes(cli_device_client):
    from oauth2_provider.models import DeviceGrant

    from oauthapps.device_authorization import device_grant_create

    live = device_grant_create(client=cli_device_client, device_code="live", user_code="BCDFGHJK", scope="",
                               interval=5)
    dead = device_grant_create(client=cli_device_client, device_code="dead", user_code="BCDFGHJL", scope="",
                               interval=5)
    DeviceGrant.objects.filter(pk=dead.pk).update(expires=timezone.now() - timedelta(minutes=1))
    assert "device codes: removed 1" in run("purge_expired")
    assert list(DeviceGrant.objects.values_list("pk", flat=True)) == [live.pk]


@pytest.fixture
def cli_device_client(app, make_client):
    return make_client(app, grants=("urn:ietf:params:oauth:grant-type:device_code",), client_type="public")[0]


def test_rotating_encryption_keys_re_encrypts_the_signing_keys_too(db):
    from oauthapps.models import SigningKey
    from oauthapps.signing_keys import current_signing_key
    from portal.encryption import DecryptionError, decrypt

    old, new = Fernet.generate_key(), Fernet.generate_key()
    with with_encryption_keys(old):
        current_signing_key()
    with with_encryption_keys(new, old):
        assert run("rotate_encryption_keys") == "re-encrypted: 1\n"
    stored = SigningKey.objects.get().encrypted_private_key
    with with_encryption_keys(new):
        assert decrypt(stored).startswith("-----BEGIN PRIVATE KEY-----")
    with with_encryption_keys(old), pytest.raises(DecryptionError):
        decrypt(stored)
