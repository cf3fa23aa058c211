"""GET /api/v1/usage and GET /api/v1/request-logs (section 15): counts, the log, filters and their 400s."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portal.api.views import HelloView
from usage.models import RequestLog

pytestmark = pytest.mark.django_db


def broken(self, request):
    raise RuntimeError("a bug")


@pytest.fixture
def caller_key(app, make_key):
    """The key under test: READ_ONLY (so it has usage:read), at most 5 requests a minute."""
    return make_key(app, "READ_ONLY", rate_limit_per_minute=5, name="caller")


@pytest.fixture
def reader(app, make_key, api_client):
    """Another key of the organization that reads the usage (its own calls are counted for itself)."""
    return api_client(make_key(app, "READ_ONLY", name="reader")[1])


@pytest.fixture
def known_calls(caller_key, api_client, flush_usage, monkeypatch):
    """3 successes, 1 client error, 1 server error and 1 rate-limited call with the caller's key, flushed."""
    client = api_client(caller_key[1])
    responses = [client.get("/api/v1/hello"), client.get("/api/v1/me"), client.get("/api/v1/hello"),
                 client.get("/api/v1/hello", {"name": ""})]
    with monkeypatch.context() as patch:
        patch.setattr(HelloView, "get", broken)
        responses.append(client.get("/api/v1/hello"))
    responses.append(client.get("/api/v1/hello"))
    assert [r.status_code for r in responses] == [200, 200, 200, 400, 500, 429]
    flush_usage()
    return [r.headers["X-Request-Id"] for r in responses]


def current(granularity: str) -> str:
    now = datetime.now(UTC)
    start = {"minute": now.replace(second=0, microsecond=0), "hour": now.replace(minute=0, second=0, microsecond=0),
             "day": now.replace(hour=0, minute=0, second=0, microsecond=0)}[granularity]
    return start.isoformat().replace("+00:00", "Z")


@pytest.mark.parametrize("granularity", ["minute", "hour", "day"])
def test_usage_of_a_key_after_known_calls(known_calls, caller_key, reader, granularity):
    response = reader.get("/api/v1/usage", {"apiKeyId": caller_key[0].public_id, "granularity": granularity})
    assert response.status_code == 200
    body = response.json()
    assert body["granularity"] == granularity and set(body) == {"granularity", "from", "to", "results"}
    assert len(body["results"]) == {"minute": 60, "hour": 24, "day": 30}[granularity]
    by_start = {bucket["start"]: bucket for bucket in body["results"]}
    assert by_start[current(granularity)] == {"start": current(granularity), "requests": 6, "success": 3,
                                              "clientErrors": 1, "rateLimited": 1, "serverErrors": 1}
    assert body["results"][-1]["start"] == current(granularity)  # the default range ends with the current bucket
    assert sum(bucket["requests"] for bucket in body["results"]) == 6  # every other bucket is a zero


def test_usage_of_the_organization_and_of_an_application_add_up_their_credentials(
        known_calls, app, org, make_key, api_client, reader, flush_usage):
    from tests.factories import ApplicationFactory

    second_app = ApplicationFactory(organization=org, name="Second")
    api_client(make_key(second_app, "READ_ONLY")[1]).get("/api/v1/hello")
    flush_usage()

    def total(**query):
        response = reader.get("/api/v1/usage", {"granularity": "day", **query})
        assert response.status_code == 200, response.json()
        return sum(bucket["requests"] for bucket in response.json()["results"])

    assert total(applicationId=app.pk) == 6  # the reader's own calls are not flushed yet
    assert total(applicationId=second_app.pk) == 1
    assert total() == 7


def test_from_inclusive_to_exclusive_on_whole_buckets(known_calls, caller_key, reader):
    key = caller_key[0]
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    iso = lambda moment: moment.isoformat().replace("+00:00", "Z")  # noqa: E731
    response = reader.get("/api/v1/usage", {"apiKeyId": key.public_id, "granularity": "hour",
                                            "from": iso(hour - timedelta(hours=2)), "to": iso(hour)})
    body = response.json()
    assert (body["from"], body["to"]) == (iso(hour - timedelta(hours=2)), iso(hour))
    assert [b["start"] for b in body["results"]] == [iso(hour - timedelta(hours=2)), iso(hour - timedelta(hours=1))]
    assert all(b["requests"] == 0 for b in body["results"])  # the calls are in the hour `to` excludes

    response = reader.get("/api/v1/usage", {"apiKeyId": key.public_id, "granularity": "hour",
                                            "from": iso(hour + timedelta(minutes=10)),
                                            "to": iso(hour + timedelta(minutes=20))})
    body = response.json()  # rounded out to the whole hour
    assert body["from"] == iso(hour) and body["to"] == iso(hour + timedelta(hours=1))
    assert [b["requests"] for b in body["results"]] == [6]


@pytest.mark.parametrize(("query", "field"), [
    ({"granularity": "week"}, "granularity"),
    ({"granularity": "minute", "from": "2026-01-01T00:00:00Z", "to": "2026-01-03T00:01:00Z"}, "from"),  # > 48 h
    ({"granularity": "hour", "from": "2026-01-01T00:00:00Z", "to": "2026-04-02T00:00:00Z"}, "from"),  # > 90 days
    ({"granularity": "day", "from": "2020-01-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"}, "from"),  # > 2 years
    ({"from": "2026-01-02T00:00:00Z", "to": "2026-01-01T00:00:00Z"}, "from"),
    ({"from": "yesterday"}, "from"),
    ({"apiKeyId": "nope"}, "apiKeyId"),
    ({"oauthClientId": "x"}, "oauthClientId"),
])
def test_bad_usage_queries_are_400(reader, query, field):
    response = reader.get("/api/v1/usage", query)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "VALIDATION_ERROR" and field in body["details"]


def test_the_longest_range_each_granularity_keeps_is_allowed(reader):
    for granularity, start, end in [("minute", "2026-01-01T00:00:00Z", "2026-01-03T00:00:00Z"),
                                    ("hour", "2026-01-01T00:00:00Z", "2026-04-01T00:00:00Z")]:
        response = reader.get("/api/v1/usage", {"granularity": granularity, "from": start, "to": end})
        assert response.status_code == 200


def test_another_organizations_ids_in_a_filter_are_400(reader, other_app, make_key, make_client):
    foreign_key, _ = make_key(other_app, "READ_ONLY")
    foreign_client, _ = make_client(other_app)
    for path, query, field in [
        ("/api/v1/usage", {"apiKeyId": foreign_key.public_id}, "apiKeyId"),
        ("/api/v1/usage", {"oauthClientId": foreign_client.pk}, "oauthClientId"),
        ("/api/v1/usage", {"applicationId": other_app.pk}, "applicationId"),
        ("/api/v1/request-logs", {"apiKeyId": foreign_key.public_id}, "apiKeyId"),
        ("/api/v1/request-logs", {"oauthClientId": foreign_client.pk}, "oauthClientId"),
    ]:
        response = reader.get(path, query)
        assert response.status_code == 400, (path, query)
        assert response.json()["code"] == "VALIDATION_ERROR" and field in response.json()["details"]


def test_usage_needs_the_usage_read_scope(app, make_key, api_client):
    _, plaintext = make_key(app, None, scopes=["apps:read"])
    for path in ("/api/v1/usage", "/api/v1/request-logs"):
        response = api_client(plaintext).get(path)
        assert response.status_code == 403
        assert response.json()["requiredScopes"] == ["usage:read"]


def test_another_organizations_usage_and_log_are_invisible(known_calls, other_app, make_key, api_client):
    outsider = api_client(make_key(other_app, "READ_ONLY")[1])
    usage = outsider.get("/api/v1/usage", {"granularity": "day"}).json()
    assert sum(bucket["requests"] for bucket in usage["results"]) == 0
    assert outsider.get("/api/v1/request-logs").json()["results"] == []


def test_the_log_lists_each_call_newest_first_with_its_request_id(known_calls, caller_key, reader):
    key = caller_key[0]
    response = reader.get("/api/v1/request-logs", {"apiKeyId": key.public_id})
    assert response.status_code == 200
    results = response.json()["results"]
    assert [entry["id"] for entry in results] == known_calls[::-1]
    assert [entry["status"] for entry in results] == [429, 500, 400, 200, 200, 200]
    newest = results[0]
    assert set(newest) == {"id", "createdAt", "method", "path", "status", "durationMs", "ipAddress", "userAgent",
                           "apiKeyId", "oauthClientId", "resourceServer"}
    assert (newest["method"], newest["path"], newest["apiKeyId"], newest["oauthClientId"]) == (
        "GET", "/api/v1/hello", key.public_id, None)
    assert newest["ipAddress"] == "127.0.0.1" and newest["durationMs"] >= 0
    assert newest["createdAt"].endswith("Z")


@pytest.mark.parametrize(("status", "expected"), [("4xx", [429, 400]), ("429", [429]), ("5xx", [500]),
                                                  ("2xx", [200, 200, 200])])
def test_the_log_filters_by_status_and_class(known_calls, caller_key, reader, status, expected):
    response = reader.get("/api/v1/request-logs", {"apiKeyId": caller_key[0].public_id, "status": status})
    assert [entry["status"] for entry in response.json()["results"]] == expected


@pytest.mark.parametrize("status", ["abc", "600", "4x", "99"])
def test_a_bad_status_filter_is_400(reader, status):
    response = reader.get("/api/v1/request-logs", {"status": status})
    assert response.status_code == 400 and "status" in response.json()["details"]


def test_the_log_filters_since_and_pages(known_calls, caller_key, reader):
    key = caller_key[0]
    later = (datetime.now(UTC) + timedelta(minutes=1)).isoformat()
    assert reader.get("/api/v1/request-logs", {"since": later}).json()["results"] == []
    first = reader.get("/api/v1/request-logs", {"apiKeyId": key.public_id, "limit": 4}).json()
    second = reader.get(first["next"]).json()
    assert [e["id"] for e in first["results"] + second["results"]] == known_calls[::-1]
    assert second["next"] is None


def test_listing_the_log_costs_the_same_queries_however_many_rows(caller_key, reader, org,
                                                                  django_assert_num_queries):
    key = caller_key[0]
    now = datetime.now(UTC)

    def add(count: int) -> None:
        RequestLog.objects.bulk_create(
            RequestLog(request_id=f"r{now.timestamp()}{i}", created_at=now - timedelta(seconds=i), organization=org,
                       api_key=key, method="GET", path="/api/v1/hello", status=200, duration_ms=1.0)
            for i in range(count))

    add(3)
    reader.get("/api/v1/hello")  # the reader's first call of the minute also writes its lastUsedAt
    with CaptureQueriesContext(connection) as few:
        assert len(reader.get("/api/v1/request-logs", {"apiKeyId": key.public_id}).json()["results"]) == 3
    add(60)
    with django_assert_num_queries(len(few)):
        assert len(reader.get("/api/v1/request-logs", {"apiKeyId": key.public_id}).json()["results"]) == 50


def test_x_request_id_is_on_every_api_response(api_client):
    from rest_framework.test import APIClient

    for response in (APIClient().get("/api/v1/scopes"), APIClient().get("/api/v1/hello"),
                     APIClient().get("/api/v1/nowhere/"),
                     APIClient().post("/api/v1/applications", data="x" * (1024 * 1024 + 1),
                                      content_type="application/json")):
        assert len(response.headers["X-Request-Id"]) == 32
    first, second = APIClient().get("/api/v1/scopes"), APIClient().get("/api/v1/scopes")
    assert first.headers["X-Request-Id"] != second.headers["X-Request-Id"]


def test_an_incoming_request_id_is_kept_only_from_a_trusted_proxy(settings, app, make_key, api_client, flush_usage):
    from rest_framework.test import APIClient

    _, plaintext = make_key(app, "READ_ONLY")
    incoming = "proxy-7f3a9c2e-request"
    assert APIClient().get("/api/v1/scopes", HTTP_X_REQUEST_ID=incoming).headers["X-Request-Id"] != incoming
    settings.PORTAL = {**settings.PORTAL, "TRUSTED_PROXY_COUNT": 1}
    response = api_client(plaintext).get("/api/v1/hello", HTTP_X_REQUEST_ID=incoming)
    assert response.headers["X-Request-Id"] == incoming
    for malformed in ("short", "has space in it", "x" * 129, 'quote"d-request-id'):
        assert APIClient().get("/api/v1/scopes", HTTP_X_REQUEST_ID=malformed).headers["X-Request-Id"] != malformed
    flush_usage()
    assert list(RequestLog.objects.values_list("request_id", flat=True)) == [incoming]


def test_usage_parameters_are_in_the_openapi_document():
    from rest_framework.test import APIClient

    document = APIClient().get("/api/schema", HTTP_ACCEPT="application/json").json()

    def names(path: str) -> set[str]:
        return {p["name"] for p in document["paths"][path]["get"]["parameters"] if p["in"] == "query"}

    assert names("/api/v1/usage") == {"apiKeyId", "oauthClientId", "applicationId", "from", "to", "granularity"}
    assert names("/api/v1/request-logs") == {"apiKeyId", "oauthClientId", "status", "since", "cursor", "limit"}
    assert "X-Request-Id" in document["paths"]["/api/v1/usage"]["get"]["responses"]["200"]["headers"]
