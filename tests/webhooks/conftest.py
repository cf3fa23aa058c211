from __future__ import annotations

import pytest

from tests.receiver import start_receiver


@pytest.fixture
def allow_private(settings):
    """The receiver listens on loopback, which only ``PORTAL_WEBHOOKS_ALLOW_PRIVATE`` lets an endpoint use."""
    settings.PORTAL = {**settings.PORTAL, "WEBHOOKS_ALLOW_PRIVATE": True, "WEBHOOK_RETRY_SCHEDULE": [1, 1, 1]}


@pytest.fixture
def receiver(allow_private):
    receiver, server = start_receiver()
    yield receiver
    server.shutdown()
    server.server_close()


@pytest.fixture
def register(client_a):
    """``register(url, **fields) -> (endpoint JSON, secret)`` through the API."""

    def _register(url: str, **fields):
        response = client_a.post("/api/v1/webhooks", {"url": url, **fields}, format="json")
        assert response.status_code == 201, response.content
        body = response.json()
        return body, body["secret"]

    return _register
