from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from apikeys.models import ApiKey
from applications.models import Application

pytestmark = pytest.mark.django_db


def run(*args: str) -> dict[str, str]:
    out = StringIO()
    call_command("issue_api_key", *args, stdout=out)
    return dict(re.findall(r"^(\w+): (.*)$", out.getvalue(), re.M))


def test_issue_api_key_prints_a_working_key_once(org, api_client):
    lines = run("--org", "acme", "--name", "deploy", "--preset", "ADMIN", "--expires-in-days", "30")
    assert api_client(lines["key"]).get("/api/v1/me").json()["application"]["name"] == "Default"
    key = ApiKey.objects.get(public_id=lines["id"])
    assert key.name == "deploy" and "admin" in key.scopes and key.expires_at is not None
    assert Application.objects.filter(organization=org, name="Default").count() == 1


def test_scopes_add_to_the_preset_and_the_app_is_reused(org):
    run("--org", "acme", "--name", "a", "--preset", "READ_ONLY", "--app", "Shop")
    lines = run("--org", "acme", "--name", "b", "--preset", "READ_ONLY", "--scopes", "apps:write", "keys:write",
                "--app", "Shop", "--rate-limit", "10")
    assert set(lines["scopes"].split()) == {"apps:read", "keys:read", "team:read", "audit:read", "usage:read",
                                            "webhooks:read",
                                            "apps:write", "keys:write"}
    assert Application.objects.filter(organization=org, name="Shop").count() == 1
    assert ApiKey.objects.get(public_id=lines["id"]).rate_limit_per_minute == 10


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--org", "nope", "--name", "x", "--preset", "ADMIN"], "No organization"),
        (["--org", "acme", "--name", "x", "--preset", "GOD"], "Unknown preset"),
        (["--org", "acme", "--name", "x", "--scopes", "orders:fly"], "orders:fly"),
        (["--org", "acme", "--name", "x", "--preset", "ADMIN", "--expires-in-days", "400"], "1 to 365"),
        (["--org", "acme", "--name", "x"], "--preset or --scopes"),
    ],
)
def test_bad_arguments_fail_clearly_and_store_nothing(org, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("issue_api_key", *args, stdout=StringIO())
    assert not ApiKey.objects.exists()
