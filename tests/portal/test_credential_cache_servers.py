"""Two separate servers (gunicorn, 2 workers each, debug off) on one Redis and one PostgreSQL: each worker keeps the
credentials it verified in its own memory (``portal.credential_cache``), and a change made through the first
server, or by any other process, is refused by the second at the very next request."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.db import connection
from django.utils import timezone

from tests.portal.test_ratelimit_workers import free_port

ROOT = Path(__file__).resolve().parents[2]
WARM_REQUESTS = 16  # with 2 workers behind one socket, enough for both to have verified the credential

pytestmark = [
    pytest.mark.skipif(not settings.REDIS_URL or connection.vendor != "postgresql",
                       reason="needs REDIS_URL and PostgreSQL (the second run of .ci/run)"),
    pytest.mark.django_db(transaction=True),
]


def server_environment() -> dict[str, str]:
    db = connection.settings_dict
    return production_environment({
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
    })


def production_environment(base: dict[str, str]) -> dict[str, str]:
    """``base`` with what every server these tests start shares: debug off, this run's secrets, quiet logs."""
    return {
        **base,
        "DJANGO_DEBUG": "off",
        "DJANGO_SETTINGS_MODULE": "tests.server_settings",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(40),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "off",
        "PORTAL_HASH_KEY": settings.PORTAL_HASH_KEY,
        "PORTAL_ENCRYPTION_KEYS": ",".join(settings.PORTAL_ENCRYPTION_KEYS),
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "DJANGO_LOG_LEVEL": "ERROR",
    }


def start_server(env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "portal.wsgi", "-w", "2", "-b", f"127.0.0.1:{port}",
         "--log-level", "error"], cwd=ROOT, env=env,
    )
    base, deadline = f"http://127.0.0.1:{port}", time.time() + 90
    while time.time() < deadline:
        try:
            requests.get(f"{base}/api/v1/scopes", timeout=30)
            return process, base
        except requests.RequestException:
            time.sleep(0.2)
    process.terminate()
    raise RuntimeError("gunicorn did not start")


@pytest.fixture
def servers():
    """The base URLs of two servers of two workers each."""
    env = server_environment()
    started = [start_server(env) for _ in range(2)]
    yield [base for _process, base in started]
    for process, _base in started:
        process.terminate()
        process.wait(timeout=30)


def statuses(base: str, headers: dict[str, str], path: str = "/api/v1/hello", count: int = WARM_REQUESTS) -> set[int]:
    with ThreadPoolExecutor(max_workers=4) as pool, requests.Session() as session:
        return set(pool.map(lambda _: session.get(base + path, headers=headers, timeout=30).status_code,
                            range(count)))


def token_for(client, user, organization, scope: str) -> str:
    from oauth2_provider.models import AccessToken

    from oauthapps.models import TokenOrganization

    value = secrets.token_urlsafe(24)
    token = AccessToken.objects.create(user=user, application=client, token=value, scope=scope,
                                       expires=timezone.now() + timedelta(hours=1))
    TokenOrganization.objects.create(access_token=token, organization=organization)
    return value


def test_a_key_revoked_or_rotated_through_one_server_is_refused_by_the_other_at_once(servers, app, make_key,
                                                                                      admin_key):
    first, second = servers
    admin = {"X-API-Key": admin_key}
    revoked, revoked_plaintext = make_key(app, "READ_ONLY")
    rotated, rotated_plaintext = make_key(app, "READ_ONLY")
    for plaintext in (revoked_plaintext, rotated_plaintext):
        assert statuses(second, {"X-API-Key": plaintext}) == {200}
        assert statuses(first, {"X-API-Key": plaintext}) == {200}

    assert requests.delete(f"{first}/api/v1/api-keys/{revoked.public_id}", headers=admin, timeout=30).status_code \
        == 204
    assert statuses(second, {"X-API-Key": revoked_plaintext}) == {401}

    response = requests.post(f"{first}/api/v1/api-keys/{rotated.public_id}/rotate", json={"gracePeriodHours": 0},
                             headers=admin, timeout=30)
    assert response.status_code == 201
    assert statuses(second, {"X-API-Key": rotated_plaintext}) == {401}
    assert statuses(second, {"X-API-Key": response.json()["key"]}) == {200}


def test_suspension_refuses_every_cached_credential_of_the_organization_until_reinstated(servers, app, make_key,
                                                                                         make_client, developer,
                                                                                         org):
    from accounts.organizations.services import organization_reinstate, organization_suspend
    from portal.callers import Caller

    first, second = servers
    _key, plaintext = make_key(app, "READ_ONLY")
    client, _secret = make_client(app)
    bearer = {"Authorization": f"Bearer {token_for(client, developer, org, 'apps:read')}"}
    for base in servers:
        assert statuses(base, {"X-API-Key": plaintext}) == {200}
        assert statuses(base, bearer) == {200}

    organization_suspend(caller=Caller.system(org))  # committed: another process, as an admin's would be
    assert statuses(second, {"X-API-Key": plaintext}) == {401}
    assert statuses(first, bearer) == {401}

    organization_reinstate(caller=Caller.system(org))
    assert statuses(second, {"X-API-Key": plaintext}) == {200}


def test_deleting_a_client_through_one_server_refuses_its_tokens_on_the_other(servers, app, make_client, admin_key):
    from oauthapps.models import TokenOrganization

    first, second = servers
    client, secret = make_client(app)
    response = requests.post(f"{first}/oauth/token/", data={"grant_type": "client_credentials",
                                                            "client_id": client.client_id, "client_secret": secret},
                             timeout=30)
    assert response.status_code == 200, response.text
    bearer = {"Authorization": f"Bearer {response.json()['access_token']}"}
    assert statuses(second, bearer) == {200}
    assert TokenOrganization.objects.exists()

    deleted = requests.delete(f"{first}/api/v1/oauth-clients/{client.pk}", headers={"X-API-Key": admin_key},
                              timeout=30)
    assert deleted.status_code == 204
    assert statuses(second, bearer) == {401}


def test_a_role_change_and_a_removal_reach_the_other_server_at_once(servers, app, make_client, developer, org,
                                                                     admin_key):
    from accounts.memberships.services import membership_change_role
    from accounts.models import Membership
    from portal.callers import Caller

    first, second = servers
    client, _secret = make_client(app, scopes=("apps:read", "apps:write"))
    bearer = {"Authorization": f"Bearer {token_for(client, developer, org, 'apps:read apps:write')}"}
    assert statuses(second, bearer, "/api/v1/me") == {200}
    me = requests.get(f"{second}/api/v1/me", headers=bearer, timeout=30).json()
    assert "apps:write" in me["scopes"]

    membership = Membership.objects.get(user=developer, organization=org)
    membership_change_role(caller=Caller.system(org), membership=membership, role="viewer")
    for _ in range(WARM_REQUESTS):  # whichever worker answers, the role is the new one
        scopes = requests.get(f"{second}/api/v1/me", headers=bearer, timeout=30).json()["scopes"]
        assert "apps:write" not in scopes and "apps:read" in scopes

    removed = requests.delete(f"{first}/api/v1/members/{membership.pk}", headers={"X-API-Key": admin_key},
                              timeout=30)
    assert removed.status_code == 204, removed.text
    assert statuses(second, bearer, "/api/v1/me") == {401}
