"""Two-factor authentication as a gate (contract sections 9 and 11).

An organization whose owners require two-factor lets a member without a second factor reach only a page that
asks them to set one up: ``access_organization_by_slug`` (the one door of every organization page) and the
session authentication of the API raise ``TwoFactorRequired``. API keys and OAuth tokens are not affected.
Staff need a second factor, used in this session, for ``/admin/`` where ``PORTAL_ADMIN_REQUIRE_MFA`` is on.
"""

from __future__ import annotations

from allauth.account.authentication import get_authentication_records
from allauth.mfa.models import Authenticator
from allauth.mfa.utils import is_mfa_enabled
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from accounts.models import Organization, User

TWO_FACTOR_REQUIRED_MESSAGE = "two-factor authentication required"


class TwoFactorRequired(PermissionDenied):
    """403: the API answers ``FORBIDDEN`` "two-factor authentication required"; the dashboard shows a page that
    leads to setting one up."""

    def __init__(self, organization: Organization | None = None) -> None:
        super().__init__(TWO_FACTOR_REQUIRED_MESSAGE)
        self.organization = organization


def has_second_factor(user: User) -> bool:
    return user.is_authenticated and is_mfa_enabled(user)


def require_two_factor_for(organization: Organization, user: User) -> None:
    """Raise ``TwoFactorRequired`` when ``organization`` requires two-factor and ``user`` has none."""
    if organization.require_two_factor and not has_second_factor(user):
        raise TwoFactorRequired(organization)


def session_used_second_factor(request: HttpRequest) -> bool:
    """Whether this session was signed in (or re-authenticated) with a second factor, not a password alone."""
    records = get_authentication_records(request, request.user)
    return any(record.get("method") == "mfa" for record in records)


def unused_recovery_codes(user: User) -> list[str]:
    authenticator = Authenticator.objects.filter(user=user, type=Authenticator.Type.RECOVERY_CODES).first()
    return authenticator.wrap().get_unused_codes() if authenticator is not None else []
