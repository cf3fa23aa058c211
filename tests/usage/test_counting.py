"""Counting requests per credential, minute and outcome, and logging them, in batches (section 15)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.test import override_settings

from portal.api.views import HelloView
from usage.models import RequestLog, UsageCount
from usage.recorder import recorder
from usage.services import usage_prune, usage_rollup

pytestmark = pytest.mark.django_db


def broken(self, request):
    raise RuntimeError("a bug")


def call_known_mix(client, monkeypatch) -> list[tuple[str, int]]:
    """3 successes, 1 client error, 1 server error, then 1 rate-limited (the key allows 5 a minute)."""
    responses = [
        client.get("/api/v1/hello"),
        client.get("/api/v1/me"),
        client.get("/api/v1/hello", {"name": "Ada"}),
        client.get("/api/v1/hello", {"name": ""}),  # 400
    ]
    with monkeypatch.context() as patch:
        patch.setattr(HelloView, "get", broken)
        responses.append(client.get("/api/v1/hello"))  # 500
    responses.append(client.get("/api/v1/hello"))  # 429, the sixth of the minute
    return [(r.headers["X-Request-Id"], r.status_code) for r in responses]


def test_every_outcome_is_counted_in_its_minute_hour_and_day(app, make_key, api_client, flush_usage, monkeypatch):
    key, plaintext = make_key(app, "READ_ONLY", rate_limit_per_minute=5)
    calls = call_known_mix(api_client(plaintext), monkeypatch)
    assert [status for _, status in calls] == [200, 200, 200, 400, 500, 429]
    assert not UsageCount.objects.exists()  # gathered in memory until the flush

    flush_usage()

    for granularity in ("minute", "hour", "day"):
        bucket = UsageCount.objects.get(api_key=key, granularity=granularity)
        assert (bucket.success, bucket.client_errors, bucket.rate_limited, bucket.server_errors) == (3, 1, 1, 1)
        assert bucket.organization_id == app.organization_id and bucket.application_id == app.pk
    minute = UsageCount.objects.get(api_key=key, granularity="minute").start
    assert minute.second == 0 and minute.microsecond == 0


def test_the_log_holds_each_request_with_its_request_id(app, make_key, api_client, flush_usage, monkeypatch):
    key, plaintext = make_key(app, "READ_ONLY", rate_limit_per_minute=5)
    client = api_client(plaintext)
    calls = call_known_mix(client, monkeypatch)
    flush_usage()

    logged = list(RequestLog.objects.order_by("id").values_list("request_id", "status", "api_key_id", "method",
                                                               "path"))
    assert [(rid, status) for rid, status, *_ in logged] == calls
    assert {(key_id, method, path) for _, _, key_id, method, path in logged} == {
        (key.pk, "GET", "/api/v1/hello"), (key.pk, "GET", "/api/v1/me")}  # no query string


def test_two_flushes_add_up(app, make_key, api_client, flush_usage):
    key, plaintext = make_key(app, "READ_ONLY")
    client = api_client(plaintext)
    client.get("/api/v1/hello")
    flush_usage()
    client.get("/api/v1/hello")
    assert client.get("/api/v1/api-keys/nothing").status_code == 404
    flush_usage()
    minute = UsageCount.objects.get(api_key=key, granularity="minute")
    assert (minute.success, minute.client_errors) == (2, 1)


def test_requests_without_a_credential_or_with_a_session_are_not_counted(app, owner, login, flush_usage):
    from rest_framework.test import APIClient

    assert APIClient().get("/api/v1/hello").status_code == 401
    assert APIClient(HTTP_X_API_KEY="dp_test_nonsense").get("/api/v1/hello").status_code == 401
    assert login(owner).get("/api/v1/hello").status_code == 200
    flush_usage()
    assert not UsageCount.objects.exists() and not RequestLog.objects.exists()


def test_oauth_token_requests_are_counted_for_their_client(app, make_client, flush_usage):
    from rest_framework.test import APIClient

    client, secret = make_client(app, scopes=["apps:read"])
    token = APIClient().post("/oauth/token/", {"grant_type": "client_credentials", "client_id": client.client_id,
                                               "client_secret": secret}, format="multipart").json()["access_token"]
    api = APIClient(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert api.get("/api/v1/applications").status_code == 200
    assert api.get("/api/v1/api-keys").status_code == 403
    flush_usage()
    minute = UsageCount.objects.get(oauth_client=client, granularity="minute")
    assert (minute.success, minute.client_errors, minute.api_key_id) == (1, 1, None)
    assert set(RequestLog.objects.values_list("oauth_client_id", "status")) == {(client.pk, 200), (client.pk, 403)}


@override_settings(PORTAL={**settings.PORTAL, "USAGE_ENABLED": False})
def test_portal_usage_off_counts_and_logs_nothing(app, make_key, api_client, flush_usage):
    _, plaintext = make_key(app, "READ_ONLY")
    response = api_client(plaintext).get("/api/v1/hello")
    flush_usage()
    assert response.status_code == 200 and response.headers["X-Request-Id"]
    assert not UsageCount.objects.exists() and not RequestLog.objects.exists()


def test_a_key_deleted_before_the_flush_does_not_lose_the_batch(app, other_app, make_key, api_client, flush_usage):
    gone, gone_plaintext = make_key(app, "READ_ONLY")
    kept, kept_plaintext = make_key(other_app, "READ_ONLY")
    api_client(gone_plaintext).get("/api/v1/hello")
    api_client(kept_plaintext).get("/api/v1/hello")
    gone.delete()
    flush_usage()
    assert list(UsageCount.objects.values_list("api_key_id", flat=True).distinct()) == [kept.pk]
    assert list(RequestLog.objects.values_list("api_key_id", flat=True)) == [kept.pk]


def test_a_batch_the_database_refuses_is_kept_for_the_next_flush(app, make_key, api_client, flush_usage,
                                                                  monkeypatch):
    key, plaintext = make_key(app, "READ_ONLY")
    api_client(plaintext).get("/api/v1/hello")
    with monkeypatch.context() as patch:
        def down(*args, **kwargs):
            raise RuntimeError("database down")

        patch.setattr("usage.recorder.store_counts", down)
        patch.setattr("usage.recorder.write_logs", down)
        recorder.flush()
    assert not UsageCount.objects.exists()
    flush_usage()
    assert UsageCount.objects.get(api_key=key, granularity="minute").success == 1
    assert RequestLog.objects.count() == 1


def test_pruning_keeps_each_granularity_for_its_retention(app, make_key):
    key, _ = make_key(app, "READ_ONLY")
    now = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    ages = {"minute": (timedelta(hours=47), timedelta(hours=49)),
            "hour": (timedelta(days=89), timedelta(days=91)),
            "day": (timedelta(days=700), timedelta(days=740))}
    for granularity, (young, old) in ages.items():
        for age in (young, old):
            UsageCount.objects.create(granularity=granularity, start=now - age, organization=app.organization,
                                      application_id=app.pk, api_key=key, success=1)
    for age in (timedelta(days=6), timedelta(days=8)):
        RequestLog.objects.create(request_id=f"r{age.days}", created_at=now - age, organization=app.organization,
                                  api_key=key, method="GET", path="/api/v1/hello", status=200, duration_ms=1.0)

    assert usage_prune(now) == {"minute": 1, "hour": 1, "day": 1, "requests": 1}

    for granularity, (young, _old) in ages.items():
        assert list(UsageCount.objects.filter(granularity=granularity).values_list("start", flat=True)) == [
            now - young]
    assert list(RequestLog.objects.values_list("request_id", flat=True)) == ["r6"]
    assert usage_prune(now) == {"minute": 0, "hour": 0, "day": 0, "requests": 0}


@pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL")
def test_with_redis_counts_wait_there_until_the_rollup_moves_them_once(app, make_key, api_client, flush_usage,
                                                                        monkeypatch):
    from usage.store import PENDING, redis_client

    key, plaintext = make_key(app, "READ_ONLY", rate_limit_per_minute=5)
    call_known_mix(api_client(plaintext), monkeypatch)
    recorder.flush()
    assert not UsageCount.objects.exists()  # in Redis, one hash per minute
    assert redis_client().scard(PENDING) >= 1
    assert RequestLog.objects.count() == 6  # the log goes to the database in either case

    assert usage_rollup() >= 1
    assert usage_rollup() == 0  # nothing left: a second run adds nothing

    for granularity in ("minute", "hour", "day"):
        bucket = UsageCount.objects.get(api_key=key, granularity=granularity)
        assert (bucket.success, bucket.client_errors, bucket.rate_limited, bucket.server_errors) == (3, 1, 1, 1)


@pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL")
def test_a_rollup_killed_after_its_commit_does_not_count_twice(app, make_key, api_client, flush_usage, monkeypatch):
    from usage import services as jobs

    key, plaintext = make_key(app, "READ_ONLY")
    api_client(plaintext).get("/api/v1/hello")
    recorder.flush()

    real_pipeline_delete = jobs._apply_batch

    def killed_after_commit(client, name):
        with monkeypatch.context() as patch:
            patch.setattr(client, "pipeline", lambda **kw: (_ for _ in ()).throw(SystemExit("killed")))
            real_pipeline_delete(client, name)

    with monkeypatch.context() as patch:
        patch.setattr(jobs, "_apply_batch", killed_after_commit)
        with pytest.raises(SystemExit):
            usage_rollup()
    assert UsageCount.objects.get(api_key=key, granularity="minute").success == 1

    usage_rollup()  # finds the batch in `processing`, sees it was applied, deletes it
    assert UsageCount.objects.get(api_key=key, granularity="minute").success == 1
    from usage.store import PROCESSING, redis_client
    assert redis_client().scard(PROCESSING) == 0


@pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL")
def test_with_redis_down_the_batch_goes_to_the_database(app, make_key, api_client, flush_usage, monkeypatch):
    import redis

    key, plaintext = make_key(app, "READ_ONLY")
    api_client(plaintext).get("/api/v1/hello")

    def refuse(*args, **kwargs):
        raise redis.ConnectionError("down")

    monkeypatch.setattr("usage.store.push_counts_to_redis", refuse)
    flush_usage()
    assert UsageCount.objects.get(api_key=key, granularity="minute").success == 1


def test_sqlite_and_postgresql_share_one_upsert(app, make_key):
    """The batch upsert is hand-written SQL: run it twice on the same buckets on this database."""
    from usage.store import write_counts

    key, _ = make_key(app, "READ_ONLY")
    minute = int(datetime(2026, 6, 1, 12, 5, tzinfo=UTC).timestamp())
    row = ("minute", minute, app.organization_id, app.pk, key.pk, None)
    write_counts({row: [1, 2, 3, 4]})
    write_counts({row: [10, 20, 30, 40]})
    bucket = UsageCount.objects.get(api_key=key)
    assert (bucket.success, bucket.client_errors, bucket.rate_limited, bucket.server_errors) == (11, 22, 33, 44)
    assert bucket.start == datetime(2026, 6, 1, 12, 5, tzinfo=UTC), connection.vendor


@pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL")
def test_the_flush_threads_roll_up_once_a_minute_whichever_process_comes_first(app, make_key, api_client):
    from usage.services import rollup_if_due

    key, plaintext = make_key(app, "READ_ONLY")
    api_client(plaintext).get("/api/v1/hello")
    recorder.flush()
    assert rollup_if_due() == 1  # took the lock: moved the minute
    api_client(plaintext).get("/api/v1/hello")
    recorder.flush()
    assert rollup_if_due() == 0  # another process (here: the same) rolled up less than a minute ago
    assert UsageCount.objects.get(api_key=key, granularity="minute").success == 1
    assert usage_rollup() == 1  # the scheduled job is not held back by the lock
    assert UsageCount.objects.get(api_key=key, granularity="minute").success == 2


def test_the_scheduler_rolls_usage_up_every_minute_and_prunes_it_every_night(app, make_key):
    from django.utils import timezone

    from usage import tasks

    schedule = {entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert schedule["usage.tasks.rollup"] == 60 and schedule["usage.tasks.prune"] == 24 * 3600
    key, _ = make_key(app, "READ_ONLY")
    RequestLog.objects.create(request_id="old", created_at=timezone.now() - timedelta(days=8),
                              organization=app.organization, api_key=key, method="GET", path="/api/v1/hello",
                              status=200, duration_ms=1.0)

    tasks.rollup.delay()
    tasks.prune.delay()

    assert not RequestLog.objects.exists()
