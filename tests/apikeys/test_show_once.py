"""A key's secret exists in one response, and nowhere else: not in later responses, logs or the database."""

from __future__ import annotations

import logging

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import ApplicationFactory
from tests.helpers import stored_text_containing

pytestmark = pytest.mark.django_db


def test_key_made_through_the_api_is_stored_nowhere_in_clear(client_a, app, caplog):
    caplog.set_level(logging.DEBUG)
    created = client_a.post("/api/v1/api-keys", {"name": "k", "applicationId": app.pk, "scopePreset": "ADMIN"},
                            format="json")
    key = created.json()["key"]
    rotated = client_a.post(f"/api/v1/api-keys/{created.json()['id']}/rotate", {}, format="json").json()["key"]
    for secret in (key, rotated):
        assert stored_text_containing(secret) == []
        assert secret not in caplog.text
        for path in ("/api/v1/api-keys", f"/api/v1/api-keys/{created.json()['id']}", "/api/v1/audit-events"):
            assert secret not in client_a.get(path).content.decode()
    secret_part = key[len("dp_live_") + 12 : -6]
    assert stored_text_containing(secret_part) == []


def test_failed_attempts_do_not_log_the_presented_key(api_client, admin_key, caplog):
    caplog.set_level(logging.DEBUG)
    tampered = admin_key[:-1] + ("A" if admin_key[-1] != "A" else "B")
    api_client(tampered).get("/api/v1/hello")
    assert tampered not in caplog.text and admin_key[10:40] not in caplog.text


@pytest.mark.parametrize("path", ["/api/v1/applications", "/api/v1/api-keys", "/api/v1/members",
                                  "/api/v1/audit-events"])
def test_list_endpoints_run_a_constant_number_of_queries(client_a, org, make_key, path):
    def count() -> int:
        client_a.get(path)  # warm: last_used_at write
        with CaptureQueriesContext(connection) as queries:
            assert client_a.get(path).status_code == 200
        return len(queries)

    few = count()
    for _ in range(12):
        application = ApplicationFactory(organization=org)
        make_key(application, "READ_ONLY")
    assert count() == few
