"""The rules of a consent page, shared by ``/oauth/authorize/`` and ``/device``: which of the person's
organizations they may grant access to, and what each would grant (never more than their role there)."""

from __future__ import annotations

from typing import Any

from accounts.roles import role_ceiling
from accounts.selectors import user_memberships
from portal import scopes as scope_registry


def scopes_granted_by(role: str, requested: list[str]) -> list[str]:
    """The requested scopes a person of ``role`` may grant."""
    ceiling = role_ceiling(role)
    return [s for s in requested if scope_registry.grants(ceiling, [s])]


def consent_context(user, application, requested: list[str]) -> dict[str, Any]:
    """``memberships`` (each with what it would grant and whether it is preselected) and
    ``scope_descriptions``, as ``oauthapps/consent.html`` shows them."""
    memberships = list(user_memberships(user).filter(organization__suspended_at__isnull=True))
    items = [
        {"membership": m, "granted": scopes_granted_by(m.role, requested),
         "selected": m.organization_id == application.organization_id}
        for m in memberships
    ]
    if items and not any(item["selected"] for item in items):
        items[0]["selected"] = True
    return {"memberships": items, "scope_descriptions": scope_registry.describe(requested)}


def chosen_membership(user, slug: str):
    """The person's membership in the organization chosen on the form (active organizations only), or None."""
    return (user_memberships(user).filter(organization__slug=slug or "", organization__suspended_at__isnull=True)
            .first())


# Scope by scope (contract section 19): the page ticks every requested scope; the person may untick any but
# ``openid`` (without it there is no sign-in to consent to). A browser posts only the boxes left ticked, so the
# page's own Authorize button carries ``CHOSEN`` as its value: with it, no box ticked means none kept. A form
# posted without the boxes and without that value (a client's own test harness, an older page) keeps every scope.
KEEP_SCOPE_FIELD = "keep_scope"
CHOSEN = "chosen"
ALWAYS_KEPT = frozenset({"openid"})


def scopes_kept_by_person(data, requested: list[str]) -> list[str]:
    """The requested scopes the person left ticked, in the request's order; ``openid`` always stays."""
    ticked = set(data.getlist(KEEP_SCOPE_FIELD))
    if not ticked and data.get("allow") != CHOSEN:
        return list(requested)
    return [s for s in requested if s in ALWAYS_KEPT or s in ticked]
