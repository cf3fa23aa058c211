from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client

from accounts.roles import Role
from tests.factories import MembershipFactory, OrganizationFactory


@pytest.fixture(autouse=True)
def _clear_cache():
    """Each test starts with an empty cache (rate-limit counters, credential caches)."""
    cache.clear()
    yield
    cache.clear()


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
