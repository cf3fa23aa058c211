"""Configuration from the environment: production start-up, ``check --deploy``, and DATABASE_URL parsing."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from portal.env import database_from_url, env_bool, env_int, env_list

BASE_DIR = Path(__file__).resolve().parents[2]
CONFIG_PREFIXES = ("DJANGO_", "PORTAL_", "DATABASE_", "REDIS_")


def production_env(tmp_path: Path, **overrides: str | None) -> dict[str, str]:
    """The variables an operator sets in production, over an environment without any portal setting."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(CONFIG_PREFIXES)}
    env.update(
        DJANGO_SETTINGS_MODULE="portal.settings",
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        PORTAL_HASH_KEY=secrets.token_urlsafe(48),
        PORTAL_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        DJANGO_ALLOWED_HOSTS="portal.example.com",
        PORTAL_BASE_URL="https://portal.example.com",
        DATABASE_URL=f"sqlite:///{tmp_path / 'prod.sqlite3'}",
    )
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def run_python(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], cwd=BASE_DIR, env=env, capture_output=True, text=True,
                          timeout=120, check=False)


def test_check_deploy_is_clean_with_production_variables(tmp_path):
    result = run_python(production_env(tmp_path), "manage.py", "check", "--deploy", "--fail-level", "WARNING")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.parametrize("variable", ["DJANGO_SECRET_KEY", "PORTAL_HASH_KEY", "PORTAL_ENCRYPTION_KEYS"])
def test_production_start_up_without_a_required_secret_fails_naming_it(tmp_path, variable):
    result = run_python(production_env(tmp_path, **{variable: None}), "-c", "import django; django.setup()")

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert f"{variable} is required when DJANGO_DEBUG is off" in result.stderr


def test_local_start_up_needs_no_configuration(tmp_path):
    env = production_env(tmp_path, DJANGO_DEBUG=None, DJANGO_SECRET_KEY=None, PORTAL_HASH_KEY=None,
                         PORTAL_ENCRYPTION_KEYS=None, DJANGO_ALLOWED_HOSTS=None, PORTAL_BASE_URL=None)

    result = run_python(env, "-c", "import django; django.setup(); from django.conf import settings; "
                                   "print(settings.DEBUG, settings.ALLOWED_HOSTS, settings.PORTAL['BASE_URL'])")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True ['localhost', '127.0.0.1'] http://localhost:8000"
    assert "REDIS_URL is not set" in result.stderr  # limits are per process: said once, at start-up


def test_production_settings_are_strict(tmp_path):
    result = run_python(
        production_env(tmp_path),
        "-c",
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.DEBUG, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, "
        "s.SECURE_HSTS_SECONDS >= 31536000, s.X_FRAME_OPTIONS, s.ALLOWED_HOSTS)",
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False True True True True DENY ['portal.example.com']"


def test_an_unreadable_debug_value_stops_start_up(tmp_path):
    result = run_python(production_env(tmp_path, DJANGO_DEBUG="maybe"), "-c", "import django; django.setup()")

    assert result.returncode != 0
    assert "DJANGO_DEBUG must be one of" in result.stderr


def test_oauth_settings_follow_rfc_9700_and_the_contract():
    from oauth2_provider.settings import oauth2_settings

    assert oauth2_settings.ACCESS_TOKEN_EXPIRE_SECONDS == 3600
    assert oauth2_settings.AUTHORIZATION_CODE_EXPIRE_SECONDS == 60
    assert oauth2_settings.REFRESH_TOKEN_EXPIRE_SECONDS == 30 * 24 * 3600
    assert oauth2_settings.PKCE_REQUIRED is True
    assert oauth2_settings.ROTATE_REFRESH_TOKEN and oauth2_settings.REFRESH_TOKEN_REUSE_PROTECTION
    assert oauth2_settings.ALLOWED_REDIRECT_URI_SCHEMES == ["https"]
    assert oauth2_settings.COMPLIANT_BCP_RFC9700_TOKEN_STORAGE is True


# --- Reading variables ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1", True), ("true", True), ("ON", True), (" yes ", True), ("0", False), ("false", False), ("Off", False),
     ("no", False), ("", True), (None, True)],
)
def test_env_bool_reads_the_usual_spellings(monkeypatch, raw, expected):
    if raw is None:
        monkeypatch.delenv("SOME_FLAG", raising=False)
    else:
        monkeypatch.setenv("SOME_FLAG", raw)

    assert env_bool("SOME_FLAG", True) is expected


def test_env_int_names_the_variable_it_cannot_read(monkeypatch):
    monkeypatch.setenv("SOME_COUNT", "ten")

    with pytest.raises(ImproperlyConfigured, match="SOME_COUNT"):
        env_int("SOME_COUNT", 1)


def test_env_list_splits_on_commas_and_drops_blanks(monkeypatch):
    monkeypatch.setenv("SOME_HOSTS", " a.example.com, ,b.example.com ")

    assert env_list("SOME_HOSTS", "") == ["a.example.com", "b.example.com"]


# --- DATABASE_URL --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("sqlite:///db.sqlite3", "/srv/portal/db.sqlite3"),
        ("sqlite:///data/portal.sqlite3", "/srv/portal/data/portal.sqlite3"),
        ("sqlite:////var/lib/portal/portal.sqlite3", "/var/lib/portal/portal.sqlite3"),
        ("sqlite:///", "/srv/portal/db.sqlite3"),
    ],
)
def test_sqlite_urls_are_relative_to_the_project_or_absolute(url, name):
    config = database_from_url(url, Path("/srv/portal"))

    assert config["ENGINE"] == "django.db.backends.sqlite3"
    assert config["NAME"] == name


@pytest.mark.parametrize("scheme", ["postgres", "postgresql", "pgsql"])
def test_postgres_urls_give_every_connection_setting(scheme):
    config = database_from_url(f"{scheme}://portal:s%40cret@db.internal:6543/portal_prod", Path("/srv"))

    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["NAME"], config["USER"], config["PASSWORD"], config["HOST"], config["PORT"]) == (
        "portal_prod", "portal", "s@cret", "db.internal", "6543"
    )


def test_postgres_connections_come_from_a_pool_sized_by_database_pool_size(monkeypatch):
    monkeypatch.setenv("DATABASE_POOL_SIZE", "25")

    config = database_from_url("postgres://postgres@127.0.0.1:5432/portal?sslmode=require", Path("/srv"))

    assert config["OPTIONS"]["pool"]["max_size"] == 25
    assert config["OPTIONS"]["sslmode"] == "require"
    assert "CONN_MAX_AGE" not in config


def test_without_the_pool_postgres_connections_are_persistent():
    config = database_from_url("postgres://postgres@127.0.0.1/portal?pool=off", Path("/srv"))

    assert "pool" not in config["OPTIONS"]
    assert config["CONN_MAX_AGE"] > 0
    assert config["CONN_HEALTH_CHECKS"] is True


@pytest.mark.parametrize("url", ["mysql://root@localhost/portal", "portal.sqlite3", "redis://localhost:6379/0"])
def test_an_unknown_database_url_is_refused_with_a_clear_message(url):
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL must start with sqlite:/// or postgres://"):
        database_from_url(url, Path("/srv"))
