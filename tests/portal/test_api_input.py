"""What the API's one parser takes (section 5): UTF-8 JSON nested at most 32 levels, without NUL characters, on
every write endpoint; anything else is a 400 VALIDATION_ERROR and changes nothing. No other parser is reachable."""

from __future__ import annotations

import json

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from accounts.models import Invitation
from apikeys.models import ApiKey
from applications.models import Application
from audit.models import AuditEvent
from oauthapps.models import OAuthClient
from portal.api.parsers import MAX_DEPTH, PortalJSONParser, nesting_exceeds

pytestmark = pytest.mark.django_db

DEPTH_MESSAGE = f"The JSON body is nested deeper than {MAX_DEPTH} levels."


@pytest.fixture
def targets(app, make_key, make_client, owner):
    """Ids that the write endpoints' paths need (``owner``: an invitation needs someone to come from)."""
    key, _ = make_key(app, "READ_ONLY", name="to rotate")
    client, _ = make_client(app)
    return {"app": app.pk, "key": key.public_id, "client": client.pk}


# (method, path, a field the endpoint knows)
WRITE_ENDPOINTS = [
    ("post", "/api/v1/applications", "name"),
    ("patch", "/api/v1/applications/{app}", "name"),
    ("post", "/api/v1/api-keys", "name"),
    ("post", "/api/v1/api-keys/{key}/rotate", "gracePeriodHours"),
    ("post", "/api/v1/oauth-clients", "name"),
    ("patch", "/api/v1/oauth-clients/{client}", "name"),
    ("post", "/api/v1/oauth-clients/{client}/rotate-secret", "name"),
    ("post", "/api/v1/invitations", "email"),
    ("post", "/api/v1/auth", "clientId"),
]
ENDPOINT_IDS = [f"{method.upper()} {path}" for method, path, _ in WRITE_ENDPOINTS]


def stored() -> dict[str, int]:
    return {model.__name__: model.objects.count()
            for model in (Application, ApiKey, OAuthClient, Invitation, AuditEvent)}


def send(client_a, method: str, path: str, targets: dict, body: bytes | str,
         content_type: str = "application/json"):
    return getattr(client_a, method)(path.format(**targets), data=body, content_type=content_type)


def refused(response, *messages: str) -> dict:
    assert response.status_code == 400, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == "VALIDATION_ERROR" and body["error"]
    for message in messages:
        assert message in json.dumps(body["details"]), body
    return body


def deep_object(levels: int) -> str:
    return '{"a":' * levels + "1" + "}" * levels


def deep_array(levels: int) -> str:
    return "[" * levels + "]" * levels


@pytest.mark.parametrize(("method", "path", "field"), WRITE_ENDPOINTS, ids=ENDPOINT_IDS)
@pytest.mark.parametrize("body", [deep_object(10_000), deep_array(10_000), deep_object(MAX_DEPTH + 1),
                                  deep_array(MAX_DEPTH + 1), f'{{"x": {deep_array(10_000)}}}'],
                         ids=["object-10000", "array-10000", "object-33", "array-33", "array-10000-in-object"])
def test_a_body_nested_deeper_than_32_levels_is_a_400_on_every_write_endpoint(
    client_a, targets, method, path, field, body
):
    before = stored()

    body = refused(send(client_a, method, path, targets, body), DEPTH_MESSAGE)

    assert body["details"] == {"body": [DEPTH_MESSAGE]}
    assert stored() == before


@pytest.mark.parametrize(("method", "path", "field"), WRITE_ENDPOINTS, ids=ENDPOINT_IDS)
def test_a_body_of_exactly_32_levels_reaches_field_validation(client_a, targets, method, path, field):
    value = deep_array(MAX_DEPTH - 1)  # inside the body's own object: 32 levels in all
    before = stored()

    body = refused(send(client_a, method, path, targets, f'{{"{field}": {value}}}'))

    assert field in body["details"] and DEPTH_MESSAGE not in json.dumps(body)
    assert stored() == before


@pytest.mark.parametrize(("method", "path", "field"), WRITE_ENDPOINTS, ids=ENDPOINT_IDS)
def test_an_array_of_exactly_32_levels_is_parsed_then_refused_as_not_an_object(
    client_a, targets, method, path, field
):
    body = refused(send(client_a, method, path, targets, deep_array(MAX_DEPTH)))

    assert body["details"] == {"body": ["Send a JSON object."]}


def test_32_levels_of_valid_input_are_accepted(client_a):
    # An application's description is a string: nesting around it is refused by the field, so the deepest body
    # that succeeds is the object itself; brackets inside strings never count.
    response = client_a.post("/api/v1/applications", {"name": "[[[[" * 20, "description": "{" * 100},
                             format="json")

    assert response.status_code == 201, response.content
    assert Application.objects.filter(name="[[[[" * 20).exists()


@pytest.mark.parametrize(("method", "path", "field"), WRITE_ENDPOINTS, ids=ENDPOINT_IDS)
@pytest.mark.parametrize("raw", [b'{"name": "caf\xe9"}', b'{"name": "\xed\xa0\x80"}', b"\xff\xfe{}",
                                 '{"name": "x"}'.encode("utf-16")],
                         ids=["latin-1", "encoded-surrogate", "bad-start", "utf-16"])
def test_a_body_that_is_not_utf_8_is_a_400(client_a, targets, method, path, field, raw):
    before = stored()

    refused(send(client_a, method, path, targets, raw), "The body is not valid UTF-8.")

    assert stored() == before


def test_the_charset_parameter_does_not_change_the_encoding(client_a):
    response = client_a.post("/api/v1/applications", data='{"name": "café"}'.encode("latin-1"),
                             content_type="application/json; charset=latin-1")

    refused(response, "The body is not valid UTF-8.")
    assert not Application.objects.filter(name="café").exists()


@pytest.mark.parametrize(("method", "path", "field"), WRITE_ENDPOINTS, ids=ENDPOINT_IDS)
@pytest.mark.parametrize("body", ['{"FIELD": "a\\u0000b"}', '{"FIELD\\u0000": "x"}', '{"x": ["ok", "\\u0000"]}',
                                  '{"x": {"y": "\\ud800"}}'],
                         ids=["in-a-value", "in-a-key", "in-a-list", "lone-surrogate"])
def test_text_no_database_can_store_is_a_400_on_every_write_endpoint(client_a, targets, method, path, field, body):
    before = stored()

    response = send(client_a, method, path, targets, body.replace("FIELD", field))

    refused(response, "may not contain NUL")
    assert stored() == before


def test_escaped_backslashes_and_surrogate_pairs_are_ordinary_text(client_a):
    response = client_a.post("/api/v1/applications", data='{"name": "\\\\u0000 \\ud83d\\ude00"}',
                             content_type="application/json")

    assert response.status_code == 201, response.content
    assert response.json()["name"] == "\\u0000 \U0001f600"


@pytest.mark.parametrize(("method", "path", "field"), WRITE_ENDPOINTS, ids=ENDPOINT_IDS)
@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", "multipart/form-data; boundary=B",
                                          "text/plain"])
def test_no_parser_but_json_is_reachable(client_a, targets, method, path, field, content_type):
    before = stored()
    body = f"{field}=x" if "urlencoded" in content_type else f'--B\r\nContent-Disposition: form-data; name="{field}"' \
                                                            f'\r\n\r\nx\r\n--B--\r\n'

    response = send(client_a, method, path, targets, body, content_type=content_type)

    assert response.status_code == 415, response.content
    assert response.json()["code"] == "UNSUPPORTED_MEDIA_TYPE"
    assert stored() == before


def _api_views(resolver: URLResolver, prefix: str = "") -> list[tuple[str, type]]:
    found = []
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            found.extend(_api_views(pattern, route))
        elif isinstance(pattern, URLPattern) and route.lstrip("^").startswith("api/"):
            found.append((route, pattern.callback.view_class))
    return found


def test_every_api_view_has_the_portal_json_parser_and_no_other():
    views = _api_views(get_resolver())

    assert len(views) > 15
    for route, view_class in views:
        assert list(view_class.parser_classes) == [PortalJSONParser], route


@pytest.mark.parametrize(("text", "deeper"), [
    ("[]", False), (deep_array(32), False), (deep_array(33), True), ('"[[[[' + "[" * 100 + '"', False),
    ('["\\"' + "[" * 40 + '"]', False), ('"' + "[" * 40, False),
    ('{"a": "\\\\"}' + "[" * 33, True),
])
def test_nesting_is_counted_outside_strings_only(text, deeper):
    assert nesting_exceeds(text) is deeper
