"""The dashboard's usage: charts on the key, application, client and overview pages, the request log page."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portal.api.views import HelloView
from usage.models import RequestLog

pytestmark = pytest.mark.django_db


def broken(self, request):
    raise RuntimeError("a bug")


@pytest.fixture
def used_key(app, make_key, api_client, flush_usage, monkeypatch):
    """A key that made 3 successes, 1 client error, 1 server error and 1 rate-limited call, flushed."""
    key, plaintext = make_key(app, "READ_ONLY", rate_limit_per_minute=5, name="Billing worker",
                              allowed_ips=["10.0.0.0/8", "127.0.0.1/32"])
    client = api_client(plaintext)
    ids = [client.get("/api/v1/hello").headers["X-Request-Id"] for _ in range(3)]
    ids.append(client.get("/api/v1/hello", {"name": ""}).headers["X-Request-Id"])
    with monkeypatch.context() as patch:
        patch.setattr(HelloView, "get", broken)
        ids.append(client.get("/api/v1/hello").headers["X-Request-Id"])
    ids.append(client.get("/api/v1/hello").headers["X-Request-Id"])
    flush_usage()
    key.refresh_from_db()
    return key, ids


def summary(html: str) -> str:
    match = re.search(r'<p class="usage-summary"[^>]*>(.*?)</p>', html, re.S)
    return " ".join(match.group(1).split()) if match else ""


@pytest.mark.parametrize("period", ["24h", "7d", "30d"])
def test_the_key_page_shows_its_counts_by_outcome(used_key, owner, login, period):
    key, ids = used_key
    page = login(owner).get(f"/orgs/acme/keys/{key.public_id}/", {"usage": period})
    assert page.status_code == 200
    html = page.content.decode()
    text = summary(html)
    assert text.startswith("<strong>6</strong> requests: 3 success, 1 client errors, 1 rate limited, 1 server errors")
    assert "<svg" in html and 'role="img"' in html and "style=" not in html
    assert html.count('class="usage-success"') == 1  # one bar: every call fell in one bucket
    assert f'aria-current="true">{ {"24h": "24 hours", "7d": "7 days", "30d": "30 days"}[period] }<' in html
    for request_id in ids:  # the recent requests, with their ids
        assert request_id in html


def test_the_key_page_shows_everything_but_the_secret(used_key, owner, login):
    key, _ = used_key
    html = login(owner).get(f"/orgs/acme/keys/{key.public_id}/").content.decode()
    for text in ("Billing worker", key.public_id, key.masked, "usage:read", "10.0.0.0/8", "5 requests a minute",
                 "Live", "Active", "api_key.created", "Billing sync"):
        assert text in html, text
    assert key.key_hash not in html


def test_another_organizations_key_page_is_404(used_key, outsider, login):
    key, _ = used_key
    assert login(outsider).get(f"/orgs/acme/keys/{key.public_id}/").status_code == 404
    assert login(outsider).get(f"/orgs/globex/keys/{key.public_id}/").status_code == 404


def test_the_application_and_overview_pages_chart_the_same_counts(used_key, app, owner, login):
    client = login(owner)
    for url in (f"/orgs/acme/apps/{app.pk}/", "/orgs/acme/"):
        html = client.get(url).content.decode()
        assert summary(html).startswith("<strong>6</strong> requests: 3 success"), url


def test_a_chart_without_requests_says_so(app, owner, login):
    html = login(owner).get(f"/orgs/acme/apps/{app.pk}/").content.decode()
    assert summary(html).startswith("<strong>0</strong> requests")
    assert "No requests in this period." in html


def test_the_request_log_page_lists_and_filters(used_key, owner, login):
    key, ids = used_key
    client = login(owner)
    html = client.get("/orgs/acme/requests/").content.decode()
    assert [i for i in re.findall(r'class="request-id">([0-9a-f]{32})<', html)] == ids[::-1]
    html = client.get("/orgs/acme/requests/", {"api_key": key.public_id, "status": "4xx"}).content.decode()
    assert re.findall(r'class="request-id">([0-9a-f]{32})<', html) == [ids[5], ids[3]]
    assert client.get("/orgs/acme/requests/", {"status": "abc"}).status_code == 400
    assert client.get("/orgs/acme/requests/", {"api_key": "someone-elses"}).status_code == 400


def test_the_request_log_page_pages_by_keyset(used_key, owner, login, monkeypatch):
    from usage import views

    _, ids = used_key
    monkeypatch.setattr(views, "PAGE_SIZE", 4)
    client = login(owner)
    first = client.get("/orgs/acme/requests/").content.decode()
    older = re.search(r'href="\?([^"]+)" rel="next"', first).group(1).replace("&amp;", "&")
    second = client.get(f"/orgs/acme/requests/?{older}").content.decode()
    found = re.findall(r'class="request-id">([0-9a-f]{32})<', first + second)
    assert found == ids[::-1]
    assert 'rel="next"' not in second


def test_another_organization_sees_none_of_it(used_key, outsider, login):
    html = login(outsider).get("/orgs/globex/requests/").content.decode()
    assert "No requests logged" in html
    assert login(outsider).get("/orgs/acme/requests/").status_code == 404


@pytest.mark.parametrize("url", ["/orgs/acme/requests/", "/orgs/acme/keys/{key}/", "/orgs/acme/"])
def test_usage_pages_cost_the_same_queries_however_many_requests(used_key, org, owner, login, url,
                                                                 django_assert_num_queries):
    from datetime import UTC, datetime, timedelta

    key, _ = used_key
    client = login(owner)
    url = url.format(key=key.public_id)
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    now = datetime.now(UTC)
    RequestLog.objects.bulk_create(
        RequestLog(request_id=f"bulk{i}", created_at=now - timedelta(seconds=i), organization=org, api_key=key,
                   method="GET", path="/api/v1/hello", status=200, duration_ms=1.0) for i in range(80))
    with django_assert_num_queries(len(few)):
        assert client.get(url).status_code == 200
