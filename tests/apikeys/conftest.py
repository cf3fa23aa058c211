from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from apikeys.services import api_key_create
from portal.callers import Caller
from tests.factories import ApplicationFactory


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
