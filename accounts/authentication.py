"""DRF authentication with the dashboard's session, for the browsable API and scripts run from a browser."""

from __future__ import annotations

from rest_framework import authentication, exceptions
from rest_framework.request import Request

from accounts.selectors import member_caller, user_memberships
from accounts.two_factor import TWO_FACTOR_REQUIRED_MESSAGE, has_second_factor


class PortalSessionAuthentication(authentication.SessionAuthentication):
    """The dashboard's session: CSRF-checked, acting in the organization named by the ``X-Organization`` header (a
    slug the person belongs to; another is a 404), else in the one they last opened in the dashboard, with scopes
    from their role there (contract section 11). An organization that requires two-factor refuses a person
    without a second factor (403)."""

    def authenticate(self, request: Request):
        result = super().authenticate(request)
        if result is None:
            return None
        user = result[0]
        memberships = list(user_memberships(user))
        wanted = request.META.get("HTTP_X_ORGANIZATION", "").strip()
        if wanted:
            membership = next((m for m in memberships if m.organization.slug == wanted), None)
            if membership is None:
                raise exceptions.NotFound()
        else:
            current = request.session.get("current_org")
            membership = next((m for m in memberships if m.organization.slug == current), None) or next(
                iter(memberships), None
            )
        if membership is None or membership.organization.suspended_at is not None:
            raise exceptions.AuthenticationFailed()
        if membership.organization.require_two_factor and not has_second_factor(user):
            raise exceptions.PermissionDenied(TWO_FACTOR_REQUIRED_MESSAGE)
        return user, member_caller(membership.organization, user, membership.role, auth_type="session")
