from __future__ import annotations

import pytest
from django.core.cache import caches
from django.test import Client
from rest_framework.test import APIClient

from accounts.roles import Role
from apikeys.services import api_key_create
from portal.callers import Caller
from tests.factories import ApplicationFactory, MembershipFactory, OrganizationFactory, UserFactory


@pytest.fixture(autouse=True)
def _clear_cache():
    """Each test starts with empty caches (the default one and the rate-limit counters)."""
    from tests.cluster import flush_cluster

    for alias in ("default", "ratelimit"):
        caches[alias].clear()
    flush_cluster()  # with REDIS_CLUSTER_URL, the request path's counters live there
    yield
    for alias in ("default", "ratelimit"):
        caches[alias].clear()
    flush_cluster()


@pytest.fixture(autouse=True)
def _empty_usage_buffer():
    """Each test starts with no usage gathered by an earlier one (tests flush it by hand: ``flush_usage``)."""
    from usage.recorder import recorder

    recorder.discard()
    yield
    recorder.discard()


@pytest.fixture
def flush_usage():
    """``flush_usage()`` writes the usage gathered so far, as each process's thread does every second, and (with
    Redis) moves it into the database as the scheduled roll-up does."""
    from usage.recorder import recorder
    from usage.services import usage_rollup

    def _flush() -> None:
        recorder.flush()
        usage_rollup()

    return _flush


@pytest.fixture
def org(db):
    return OrganizationFactory(name="Acme", slug="acme")


@pytest.fixture
def other_org(db):
    return OrganizationFactory(name="Globex", slug="globex")


def _member(org, role):
    return MembershipFactory(organization=org, role=role).user


@pytest.fixture
def owner(org):
    return _member(org, Role.OWNER)


@pytest.fixture
def admin_user(org):
    return _member(org, Role.ADMIN)


@pytest.fixture
def developer(org):
    return _member(org, Role.DEVELOPER)


@pytest.fixture
def viewer(org):
    return _member(org, Role.VIEWER)


@pytest.fixture
def outsider(other_org):
    """Owner of another organization: everything of ``org`` must be a 404 to them."""
    return _member(other_org, Role.OWNER)


@pytest.fixture
def login():
    """A signed-in ``Client`` for a user."""

    def _login(user) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return _login



@pytest.fixture
def app(org):
    return ApplicationFactory(organization=org, name="Billing sync")


@pytest.fixture
def other_app(other_org):
    return ApplicationFactory(organization=other_org, name="Globex app")


@pytest.fixture
def make_key():
    """``make_key(application, preset="ADMIN", **options) -> (ApiKey, plaintext)`` through the real service."""

    def _make(application, preset: str | None = "ADMIN", **options):
        caller = Caller.system(application.organization)
        options.setdefault("name", "test key")
        return api_key_create(caller=caller, application=application, scope_preset=preset, **options)

    return _make


@pytest.fixture
def api_client():
    """``api_client(plaintext_key=None) -> APIClient`` sending the key as ``X-API-Key``."""

    def _client(key: str | None = None, header: str = "x-api-key") -> APIClient:
        client = APIClient()
        if key and header == "x-api-key":
            client.credentials(HTTP_X_API_KEY=key)
        elif key:
            client.credentials(HTTP_AUTHORIZATION=f"{header} {key}")
        return client

    return _client


@pytest.fixture
def admin_key(app, make_key):
    return make_key(app, "ADMIN")[1]


@pytest.fixture
def client_a(api_client, admin_key):
    """An ADMIN key of ``org``."""
    return api_client(admin_key)


@pytest.fixture
def make_client():
    """``make_client(application, grants=[...], scopes=[...], **options) -> (OAuthClient, secret)``."""
    from oauthapps.services.clients import oauth_client_create

    def _make(application, grants=("client_credentials",), scopes=("apps:read",), **options):
        caller = Caller.system(application.organization)
        options.setdefault("name", "test client")
        if "authorization_code" in grants:
            options.setdefault("redirect_uris", ["https://client.example.com/callback"])
        return oauth_client_create(caller=caller, application=application, grant_types=list(grants),
                                   allowed_scopes=list(scopes), **options)

    return _make


@pytest.fixture
def staff(db):
    """A superuser of the Django admin."""
    return UserFactory(email="staff@example.com", is_staff=True, is_superuser=True)


@pytest.fixture
def staff_client(staff) -> Client:
    client = Client()
    client.force_login(staff)
    return client
