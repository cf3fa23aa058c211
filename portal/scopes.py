"""The scope registry: names ``resource:action``, their descriptions, presets, and who may grant what.

A site adds its own scopes and presets in ``settings.PORTAL["SCOPES"]`` and ``["SCOPE_PRESETS"]``;
the portal's own are always there.
"""

from __future__ import annotations

from collections.abc import Iterable

from portal.conf import portal_settings

ADMIN_SCOPE = "admin"

PORTAL_SCOPES: dict[str, str] = {
    "apps:read": "Read applications and OAuth clients",
    "apps:write": "Create, change and delete applications and OAuth clients",
    "keys:read": "Read API keys (never their secrets)",
    "keys:write": "Create, rotate and revoke API keys",
    "team:read": "Read members and invitations",
    "team:write": "Invite and remove members",
    "audit:read": "Read the audit log",
    "usage:read": "Read usage counts and the request log",
    "webhooks:read": "Read webhook endpoints and their delivery log (never their secrets)",
    "webhooks:write": "Register, change, test and delete webhook endpoints, and resend deliveries",
    ADMIN_SCOPE: "Everything, including every scope above",
}

# OpenID Connect's scopes (section 17): they say who the person is, not what the token may do in an
# organization, so every role may grant them (each person may share their own identity).
IDENTITY_SCOPES: dict[str, str] = {
    "openid": "Sign you in: your account's identifier and the organization you choose",
    "email": "Your e-mail address and whether it is verified",
    "profile": "Your name",
}

# Presets that are not spelled out in a list but derived from the registry, so a site's own
# ``orders:read`` joins READ_ONLY by itself.
STANDARD_EXCLUDED = {"team:write", ADMIN_SCOPE}


class ScopeError(ValueError):
    """Unknown scopes or presets; ``unknown`` names them."""

    def __init__(self, message: str, unknown: Iterable[str] = ()) -> None:
        super().__init__(message)
        self.unknown = sorted(unknown)


def registry() -> dict[str, str]:
    """Every known scope with its description: the portal's, then the site's."""
    return {**PORTAL_SCOPES, **portal_settings.SCOPES, **IDENTITY_SCOPES}


def presets() -> dict[str, list[str]]:
    scopes = list(registry())
    built_in = {
        "READ_ONLY": [s for s in scopes if s.endswith(":read")],
        "STANDARD": [s for s in scopes if s.endswith((":read", ":write")) and s not in STANDARD_EXCLUDED],
        "ADMIN": scopes,
    }
    return {**built_in, **{name: list(values) for name, values in portal_settings.SCOPE_PRESETS.items()}}


def normalize(scopes: Iterable[str]) -> list[str]:
    """Known scopes in registry order, without duplicates. Raises ScopeError naming the unknown ones."""
    requested = {s.strip() for s in scopes if s and s.strip()}
    known = registry()
    unknown = requested - set(known)
    if unknown:
        raise ScopeError(f"Unknown scope{'s' if len(unknown) > 1 else ''}: {', '.join(sorted(unknown))}.", unknown)
    return [s for s in known if s in requested]


def resolve(*, preset: str | None = None, scopes: Iterable[str] | None = None) -> list[str]:
    """A preset, explicit scopes, or both (the scopes add to the preset)."""
    chosen: list[str] = []
    if preset:
        table = presets()
        if preset not in table:
            raise ScopeError(f"Unknown preset: {preset}. Choose one of: {', '.join(table)}.", [preset])
        chosen.extend(table[preset])
    if scopes:
        chosen.extend(scopes)
    return normalize(chosen)


def grants(held: Iterable[str], required: Iterable[str]) -> bool:
    """True when ``held`` covers ``required``; ``admin`` implies every scope."""
    return not missing(held, required)


def missing(held: Iterable[str], required: Iterable[str]) -> list[str]:
    held = set(held)
    if ADMIN_SCOPE in held:
        return []
    return [s for s in required if s not in held]


def describe(scopes: Iterable[str]) -> list[tuple[str, str]]:
    known = registry()
    return [(s, known.get(s, s)) for s in scopes]


class ScopeEscalation(Exception):
    """Asking to put into a credential a scope the caller does not hold itself."""

    def __init__(self, missing_scopes: list[str]) -> None:
        super().__init__(f"You cannot grant scopes you do not hold: {', '.join(missing_scopes)}.")
        self.missing = missing_scopes


def check_grantable(held: Iterable[str], requested: Iterable[str]) -> None:
    """Raise ScopeEscalation unless every requested scope is covered by ``held``."""
    lacking = missing(held, list(requested))
    if lacking:
        raise ScopeEscalation(lacking)
