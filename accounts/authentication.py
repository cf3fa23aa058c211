"""DRF authentication with the dashboard's session, for the browsable API."""

from __future__ import annotations

from rest_framework import authentication, exceptions
from rest_framework.request import Request

from accounts.selectors import member_caller, user_memberships


class PortalSessionAuthentication(authentication.SessionAuthentication):
    """The dashboard's session: CSRF-checked, scopes from the person's role in the organization they are looking
    at in the dashboard."""

    def authenticate(self, request: Request):
        result = super().authenticate(request)
        if result is None:
            return None
        user = result[0]
        memberships = list(user_memberships(user))
        current = request.session.get("current_org")
        membership = next((m for m in memberships if m.organization.slug == current), None) or next(
            iter(memberships), None
        )
        if membership is None or membership.organization.suspended_at is not None:
            raise exceptions.AuthenticationFailed()
        return user, member_caller(membership.organization, user, membership.role, auth_type="session")
