"""Reading configuration from environment variables (used only by ``portal.settings``)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

from django.core.exceptions import ImproperlyConfigured

TRUE_VALUES = {"1", "true", "on", "yes"}
FALSE_VALUES = {"0", "false", "off", "no"}


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in TRUE_VALUES:
        return True
    if value in FALSE_VALUES:
        return False
    raise ImproperlyConfigured(f"{name} must be one of 1/true/on or 0/false/off, not {raw!r}.")


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_overrides(spec: dict[str, tuple[str, Callable[[str], Any]]]) -> dict[str, Any]:
    """``{key: read(variable)}`` for each ``key: (variable, read)`` of ``spec`` whose variable is set (not empty).
    For settings whose defaults are written elsewhere, once (``portal.conf.DEFAULTS``): the environment gives a
    value only when it has one."""
    return {key: read(name) for key, (name, read) in spec.items() if os.environ.get(name, "").strip()}


def read_str(name: str) -> str:
    return os.environ[name].strip()


def read_bool(name: str) -> bool:
    return env_bool(name, False)


def read_int(name: str) -> int:
    return env_int(name, 0)


def read_int_list(name: str) -> list[int]:
    """Comma-separated whole numbers (``5,300,1800``)."""
    try:
        return [int(item) for item in env_list(name, "")]
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be whole numbers separated by commas.") from None


def required_unless_debug(name: str, value: str | list[str], *, debug: bool, why: str, generate: str,
                          fallback):
    """``value`` when it is set; else, in debug only, ``fallback()`` (a development value, so that local runs
    need no setup). With debug off a missing value stops start-up with a message that says what it is for and
    how to make one."""
    if value:
        return value
    if not debug:
        raise ImproperlyConfigured(f"{name} is required when DJANGO_DEBUG is off{why}. Generate one with: {generate}")
    return fallback()


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}.") from None


# WAL lets readers run beside a writer; mmap keeps lookups in large tables (a million keys) off read() calls.
SQLITE_PRAGMAS = "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA mmap_size=268435456;"


def database_from_url(url: str, base_dir: Path) -> dict:
    """Turn ``sqlite:///relative``, ``sqlite:////absolute`` or ``postgres://...`` into DATABASES['default']."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        # sqlite:///name is relative to the project folder, sqlite:////abs/path is absolute.
        path = unquote(parsed.path)
        name = path[1:]  # drop the slash that ends "sqlite://"; what is left may itself be absolute
        name = name or "db.sqlite3"
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": name if Path(name).is_absolute() else str(base_dir / name),
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": SQLITE_PRAGMAS},
            # Keep the connection between requests: opening one (and setting WAL) on every request costs more
            # than the request itself.
            "CONN_MAX_AGE": 600,
            "CONN_HEALTH_CHECKS": True,
        }
    if parsed.scheme in {"postgres", "postgresql", "pgsql"}:
        options: dict = {key: values[-1] for key, values in parse_qs(parsed.query).items()}
        # Server-side binding lets psycopg prepare statements that run often (it does after 5 runs), so the
        # hot authentication queries are not planned again on every request.
        options.setdefault("server_side_binding", True)
        options.setdefault("prepare_threshold", 5)
        pool = options.pop("pool", "on").lower() not in FALSE_VALUES
        config = {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parsed.path.lstrip("/")) or "postgres",
            "USER": unquote(parsed.username or ""),
            "PASSWORD": unquote(parsed.password or ""),
            "HOST": parsed.hostname or "",
            "PORT": str(parsed.port or ""),
            "OPTIONS": options,
        }
        if pool:
            # psycopg's pool keeps connections open across requests: a fresh PostgreSQL connection
            # costs several milliseconds, more than a whole API request should.
            config["OPTIONS"]["pool"] = {"min_size": 1, "max_size": env_int("DATABASE_POOL_SIZE", 10), "timeout": 5}
        else:
            config["CONN_MAX_AGE"] = 600
            config["CONN_HEALTH_CHECKS"] = True
        return config
    raise ImproperlyConfigured(
        "DATABASE_URL must start with sqlite:/// or postgres://, "
        f"not {parsed.scheme or url!r}."
    )
