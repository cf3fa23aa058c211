"""When Redis or the database is out of reach: the API stays up or says 503, guessing stays expensive, and
everything recovers by itself."""

from __future__ import annotations

import logging

import pytest
from django.db import connection
from django.test import Client, override_settings

from tests.factories import PASSWORD
from tests.helpers import redis_is_running

REAL_REDIS = "redis://127.0.0.1:6379/15"
CLOSED_PORT_REDIS = "redis://127.0.0.1:1/0"

REDIS_BACKEND = "django.core.cache.backends.redis.RedisCache"


def redis_cache(location: str) -> dict:
    options = {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}
    return {"default": {"BACKEND": REDIS_BACKEND, "LOCATION": location, "OPTIONS": options},
            "ratelimit": {"BACKEND": REDIS_BACKEND, "LOCATION": location, "OPTIONS": options}}


needs_redis = pytest.mark.skipif(not redis_is_running(), reason="needs the Redis server on 127.0.0.1:6379")


@needs_redis
@pytest.mark.django_db
def test_redis_outage_fails_open_on_the_api_and_closed_on_guessable_endpoints(
    app, make_key, make_client, owner, caplog
):
    _, key = make_key(app, "READ_ONLY")
    client, secret = make_client(app)
    token_form = {"grant_type": "client_credentials", "client_id": client.client_id, "client_secret": secret}
    with override_settings(CACHES=redis_cache(CLOSED_PORT_REDIS), REDIS_CLUSTER_URL=""):
        caplog.set_level(logging.ERROR)
        api = Client().get("/api/v1/hello", HTTP_X_API_KEY=key)
        assert api.status_code == 200 and "X-RateLimit-Limit" not in api
        assert "failing open" in caplog.text

        token = Client().post("/oauth/token/", token_form)
        assert token.status_code == 503 and int(token["Retry-After"]) > 0
        assert token.json()["error"] == "temporarily_unavailable"

        json_auth = Client().post("/api/v1/auth", {"clientId": client.client_id, "clientSecret": secret},
                                  content_type="application/json")
        assert json_auth.status_code == 503 and json_auth.json()["code"] == "SERVICE_UNAVAILABLE"
        assert "Retry-After" in json_auth

        sign_in = Client().post("/accounts/login/", {"username": owner.email, "password": PASSWORD})
        assert sign_in.status_code == 503 and "Retry-After" in sign_in
        assert "unavailable" in sign_in.content.decode()

    with override_settings(CACHES=redis_cache(REAL_REDIS)):  # Redis is back: everything recovers by itself
        api = Client().get("/api/v1/hello", HTTP_X_API_KEY=key)
        assert api.status_code == 200 and api["X-RateLimit-Limit"] == "100"
        assert Client().post("/oauth/token/", token_form).status_code == 200
        assert Client().post("/accounts/login/", {"username": owner.email, "password": PASSWORD}).status_code == 302


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite is a file inside the process: it cannot go away")
@pytest.mark.django_db(transaction=True)
def test_database_outage_is_a_503_and_the_api_recovers_by_itself(app, make_key):
    _, key = make_key(app, "READ_ONLY")
    original = dict(connection.settings_dict)
    connection.close()
    if hasattr(connection, "close_pool"):
        connection.close_pool()
    connection.settings_dict["PORT"] = "1"  # nothing listens there
    try:
        response = Client().get("/api/v1/hello", HTTP_X_API_KEY=key)
        assert response.status_code == 503
        assert response.json()["code"] == "SERVICE_UNAVAILABLE" and "Retry-After" in response
    finally:
        connection.close()
        if hasattr(connection, "close_pool"):
            connection.close_pool()
        connection.settings_dict.update(original)
    assert Client().get("/api/v1/hello", HTTP_X_API_KEY=key).status_code == 200
