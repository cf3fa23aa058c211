"""The resource server's secret module: made with ``secrets``, stored as a keyed hash, compared in constant time,
and HTTP Basic read strictly."""

from __future__ import annotations

import base64

import pytest

from gateway import credentials


def test_client_ids_and_secrets_are_random_and_long():
    ids = {credentials.new_client_id() for _ in range(100)}
    secrets = {credentials.new_secret() for _ in range(100)}
    assert len(ids) == len(secrets) == 100
    assert all(value.startswith("rs_") and len(value) == 27 for value in ids)
    assert all(len(value) >= 43 for value in secrets)


def test_the_hash_is_keyed_and_checked(settings):
    secret = credentials.new_secret()
    stored = credentials.hash_secret(secret)
    assert secret not in stored and len(stored) == 64
    assert credentials.secret_matches(secret, stored)
    assert not credentials.secret_matches(secret + "x", stored)
    settings.PORTAL = {**getattr(settings, "PORTAL", {}), "HASH_KEY": "another key entirely, 32 chars+"}
    assert not credentials.secret_matches(secret, stored)


def encoded(text: str) -> str:
    return "Basic " + base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize(("value", "expected"), [
    (encoded("rs_abc:s3cret"), ("rs_abc", "s3cret")),
    ("basic " + encoded("rs_abc:a:b")[6:], ("rs_abc", "a:b")),
    (None, None), ("", None), ("Bearer x", None), ("Basic", None), ("Basic !!!", None),
    (encoded("no-colon"), None), (encoded(":secret"), None), (encoded("id:"), None),
    ("Basic " + base64.b64encode(b"\xff\xfe:x").decode(), None), (encoded("id:\x00"), None),
    ("Basic " + "QUFB" * 300, None),
])
def test_basic_credentials_are_read_strictly(value, expected):
    assert credentials.basic_credentials(value) == expected
