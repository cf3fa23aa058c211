"""Resource servers for the gateway tests, and the headers a gateway sends."""

from __future__ import annotations

import base64

import pytest

from gateway.services import resource_server_create

SITE_SCOPES = {"orders:read": "Read orders", "orders:write": "Create and change orders"}


@pytest.fixture(autouse=True)
def site_scopes(settings):
    """The site adds its own scopes (section 3), which its services serve."""
    settings.PORTAL = {**getattr(settings, "PORTAL", {}), "SCOPES": SITE_SCOPES}


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


@pytest.fixture
def make_server(db):
    """``make_server(name, scopes) -> (ResourceServer, secret)`` through the real service."""

    def _make(name: str = "orders-api", scopes=("orders:read", "orders:write", "apps:read")):
        return resource_server_create(name=name, scopes=list(scopes), actor=None)

    return _make


@pytest.fixture
def server(make_server):
    return make_server()


@pytest.fixture
def gateway_auth(server):
    """The ``Portal-Gateway-Authorization`` header of ``server`` as Django test client keyword arguments."""
    resource_server, secret = server
    return {"HTTP_PORTAL_GATEWAY_AUTHORIZATION": basic(resource_server.client_id, secret)}
