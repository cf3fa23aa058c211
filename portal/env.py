"""Reading configuration from environment variables (used only by ``portal.settings``)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import dj_database_url
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
                          fallback: Callable[[], Any]) -> Any:
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


POSTGRES_SCHEMES = {"postgres", "postgresql", "pgsql"}
# Kept between requests: opening a connection (and setting WAL) on every request costs more than the request.
PERSISTENT_SECONDS = 600


def database_from_url(url: str, base_dir: Path) -> dict[str, Any]:
    """``DATABASES['default']`` from ``DATABASE_URL``, parsed by dj-database-url, with the portal's choices on top:
    ``sqlite:///name`` is relative to the project folder (``sqlite:////abs/path`` absolute), and PostgreSQL
    connections come from psycopg's pool unless the URL says ``?pool=off``."""
    scheme = urlsplit(url).scheme
    if scheme != "sqlite" and scheme not in POSTGRES_SCHEMES:
        raise ImproperlyConfigured(
            "DATABASE_URL must start with sqlite:/// or postgres://, "
            f"not {scheme or url!r}."
        )
    config: dict[str, Any] = dict(dj_database_url.parse(url, conn_max_age=PERSISTENT_SECONDS,
                                                        conn_health_checks=True))
    config.pop("DISABLE_SERVER_SIDE_CURSORS", None)  # Django's default, not a choice of ours
    config["PORT"] = str(config.get("PORT") or "")
    # A parameter given twice counts once, the last time (dj-database-url would hand on a list).
    options = {key: value[-1] if isinstance(value, list) else value
               for key, value in config.get("OPTIONS", {}).items()}
    config["OPTIONS"] = options
    if scheme == "sqlite":
        name = config["NAME"]
        name = "db.sqlite3" if name in {"", ":memory:"} else name
        config["NAME"] = name if Path(name).is_absolute() else str(base_dir / name)
        options.update({"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": SQLITE_PRAGMAS})
        return config
    config["NAME"] = config["NAME"] or "postgres"
    # Server-side binding lets psycopg prepare statements that run often (it does after 5 runs), so the hot
    # authentication queries are not planned again on every request.
    options.setdefault("server_side_binding", True)
    options.setdefault("prepare_threshold", 5)
    if str(options.pop("pool", "on")).lower() not in FALSE_VALUES:
        # psycopg's pool keeps connections open across requests: a fresh PostgreSQL connection costs several
        # milliseconds, more than a whole API request should. Django refuses persistent connections beside it.
        options["pool"] = {"min_size": 1, "max_size": env_int("DATABASE_POOL_SIZE", 10), "timeout": 5}
        del config["CONN_MAX_AGE"], config["CONN_HEALTH_CHECKS"]
    return config
