"""A key pasted where it does not belong (an API path, a query string, a header) is logged as its public id only:
in no request-log entry, audit event or server log line (contract sections 4 and 15)."""

from __future__ import annotations

import logging

import pytest

from audit.models import AuditEvent
from portal.scrub import NoKeysFilter, scrub_keys
from tests.helpers import stored_text_containing
from usage.models import RequestLog

pytestmark = pytest.mark.django_db


@pytest.fixture
def pasted(other_app, make_key):
    """A live key of another organization, as someone would paste it by mistake: ``(key, plaintext)``."""
    return make_key(other_app, "READ_ONLY", name="pasted")


@pytest.fixture
def caller(app, make_key, api_client):
    return api_client(make_key(app, "ADMIN", name="caller")[1])


def _secret_of(plaintext: str, public_id: str) -> str:
    return plaintext.split(public_id, 1)[1]


def test_a_key_in_a_path_a_query_or_a_header_is_logged_as_its_public_id(pasted, caller, flush_usage, caplog):
    key, plaintext = pasted
    secret = _secret_of(plaintext, key.public_id)
    with caplog.at_level(logging.INFO):
        responses = [
            caller.get(f"/api/v1/api-keys/{plaintext}"),
            caller.get(f"/api/v1/api-keys/{plaintext}/rotate"),
            caller.get("/api/v1/hello", {"key": plaintext}),
            caller.get("/api/v1/hello", HTTP_USER_AGENT=f"curl/8 {plaintext}", HTTP_X_PASTED=plaintext),
            caller.post("/api/v1/applications", {"name": "Made"}, format="json",
                        HTTP_USER_AGENT=plaintext),
            caller.get(f"/api/v1/no-such/{plaintext}"),
        ]
    assert [r.status_code for r in responses] == [404, 405, 200, 200, 201, 404]
    flush_usage()

    paths = list(RequestLog.objects.order_by("created_at").values_list("path", flat=True))
    assert f"/api/v1/api-keys/dp_live_{key.public_id}…" in paths
    assert f"/api/v1/api-keys/dp_live_{key.public_id}…/rotate" in paths
    assert RequestLog.objects.filter(user_agent=f"curl/8 dp_live_{key.public_id}…").exists()
    assert AuditEvent.objects.filter(action__startswith="application.", user_agent=f"dp_live_{key.public_id}…").exists()
    assert stored_text_containing(secret) == []
    lines = [record.getMessage() for record in caplog.records]
    assert any(f"Not Found: /api/v1/api-keys/dp_live_{key.public_id}…" in line for line in lines)
    assert not any(secret in line for line in lines)


def test_an_unauthenticated_request_with_a_key_in_its_path_logs_no_secret(client, pasted, caplog):
    key, plaintext = pasted
    with caplog.at_level(logging.INFO):
        assert client.get(f"/api/v1/api-keys/{plaintext}").status_code in (401, 404)
        assert client.get(f"/orgs/acme/keys/{plaintext}/").status_code in (302, 404)
    assert caplog.records and not any(_secret_of(plaintext, key.public_id) in r.getMessage() for r in caplog.records)


def test_every_server_log_line_is_scrubbed(pasted):
    """runserver's request lines (``django.server``) and gunicorn's access log go through the same filter."""
    key, plaintext = pasted
    seen: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(self.format(record))

    for name in ("django.server", "django.request", "gunicorn.access"):
        logger = logging.getLogger(name)
        assert any(isinstance(f, NoKeysFilter) for f in logger.filters), name
        handler = Keep()
        logger.addHandler(handler)
        try:
            logger.warning('"GET /api/v1/api-keys/%s HTTP/1.1" %s', plaintext, 404)
        finally:
            logger.removeHandler(handler)
    assert len(seen) == 3 and all(f"dp_live_{key.public_id}…" in line and plaintext not in line for line in seen)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/api/v1/api-keys/dp_test_AbCdEfGhIjKl0123456789abcdefghij0123456789ABCDEFGHxyz123",
         "/api/v1/api-keys/dp_test_AbCdEfGhIjKl…"),
        ("?q=acme_live_AbCdEfGhIjKlSECRETPART&x=1", "?q=acme_live_AbCdEfGhIjKl…&x=1"),  # another prefix, cut short
        ("dp_live_AbCdEfGhIjKl…", "dp_live_AbCdEfGhIjKl…"),  # already masked: unchanged
        ("/api/v1/applications/my_test_app", "/api/v1/applications/my_test_app"),  # too short to be a key
        ("/api/v1/hello", "/api/v1/hello"),
    ],
)
def test_scrub_keys_keeps_the_public_id_only(text, expected):
    assert scrub_keys(text) == expected
