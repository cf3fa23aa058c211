"""Schemathesis against the live OpenAPI document: every operation, valid and invalid input, checked against
the document itself (status codes, content types, headers, response bodies; every error in the ``Error`` envelope).

The API is called in process through its WSGI application with an ADMIN key of a fresh organization that holds
one of everything. Generated ids rarely name anything, so half of them are swapped for real ones: the success
paths are fuzzed too. Generation is derandomized, so a failure replays exactly.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.roles import Role
from portal.wsgi import application
from tests.factories import ApplicationFactory, InvitationFactory, MembershipFactory

pytestmark = pytest.mark.django_db

schema = schemathesis.openapi.from_wsgi("/api/schema?format=json", application)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
CREDENTIAL_HEADERS = {"authorization", "x-api-key"}


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """The WSGI app runs in this process, inside the test's transaction: like Django's test client, stop the request
    signals from closing the database connection (PostgreSQL would then refuse a new one in an atomic block)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def fuzz_org(org, app, make_key, make_client, admin_key, settings) -> dict[str, Any]:
    """An ADMIN key of ``org``, and the ids of things to aim at: an application with a key and an OAuth client,
    a viewer, an invitation."""
    settings.PORTAL = {**settings.PORTAL, "RATELIMITS_ENABLED": False}  # the limiter has its own tests
    target = ApplicationFactory(organization=org, name="Fuzz target")
    key, _ = make_key(target, "READ_ONLY", name="reader", allowed_ips=["10.0.0.0/8"], rate_limit_per_minute=60)
    client, _ = make_client(target, grants=("authorization_code", "client_credentials"))
    viewer = MembershipFactory(organization=org, role=Role.VIEWER)
    InvitationFactory(organization=org)
    return {
        "key": admin_key,
        "ids": {"application_id": target.pk, "applicationId": target.pk, "key_id": key.public_id,
                "client_id": client.pk, "membership_id": viewer.pk},
    }


def aim(values: dict[str, Any] | None, ids: dict[str, Any]) -> None:
    """Swap about half of the generated ids (chosen by the value itself, so it replays) for real ones."""
    for name, value in (values or {}).items():
        if name in ids and isinstance(value, int | str) and not isinstance(value, bool) and len(str(value)) % 2:
            values[name] = ids[name]


@schema.parametrize()
@settings(max_examples=15, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_matches_its_openapi_document(case, fuzz_org: dict[str, Any]) -> None:
    # The admin key alone: generated credentials would only ever meet 401 (tested in tests/apikeys/test_auth.py).
    case.headers = {k: v for k, v in (case.headers or {}).items() if k.lower() not in CREDENTIAL_HEADERS}
    aim(case.path_parameters, fuzz_org["ids"])
    if isinstance(case.body, dict):
        aim(case.body, fuzz_org["ids"])
    case.call_and_validate(headers={"X-API-Key": fuzz_org["key"]}, checks=CHECKS)


KNOWN_GOOD = [
    ("POST", "/api/v1/api-keys", {}, {"name": "ci", "applicationId": "applicationId", "scopePreset": "STANDARD",
                                      "expiresInDays": 30, "environment": "test", "allowedIps": ["10.0.0.0/8"]}),
    ("POST", "/api/v1/api-keys/{key_id}/rotate", {"key_id": "key_id"}, {"gracePeriodHours": 1}),
    ("POST", "/api/v1/oauth-clients", {}, {
        "name": "web", "applicationId": "applicationId", "grantTypes": ["authorization_code", "refresh_token"],
        "redirectUris": ["https://app.example.com/callback"], "allowedScopes": ["apps:read"]}),
    ("POST", "/api/v1/oauth-clients", {}, {
        "name": "spa", "applicationId": "applicationId", "clientType": "public", "grantTypes": ["authorization_code"],
        "redirectUris": ["http://127.0.0.1:8080/cb"], "allowedScopes": ["apps:read"], "rateLimitPerMinute": 30}),
    ("PATCH", "/api/v1/oauth-clients/{client_id}", {"client_id": "client_id"}, {"rateLimitPerMinute": None}),
    ("POST", "/api/v1/oauth-clients/{client_id}/rotate-secret", {"client_id": "client_id"}, {}),
    ("GET", "/api/v1/audit-events", {}, None),
]


@pytest.mark.parametrize(("method", "path", "path_parameters", "body"), KNOWN_GOOD)
def test_successful_responses_match_the_document(method, path, path_parameters, body, fuzz_org) -> None:
    """The success paths random input seldom reaches (a valid OAuth client needs a real redirect URI)."""
    ids = fuzz_org["ids"]
    resolve = {name: ids[value] for name, value in path_parameters.items()}
    body = {k: ids[v] if k == "applicationId" else v for k, v in body.items()} if body is not None else None
    case = schema[path][method].Case(path_parameters=resolve, **({"body": body} if body is not None else {}))
    response = case.call_and_validate(headers={"X-API-Key": fuzz_org["key"]}, checks=CHECKS)
    assert response.status_code in (200, 201)
