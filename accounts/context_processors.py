from __future__ import annotations

from django.http import HttpRequest

from accounts.selectors import user_memberships


def organizations(request: HttpRequest) -> dict:
    """The signed-in user's organizations, for the switcher in the page header (one query, lazily)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"my_memberships": user_memberships(user)}
