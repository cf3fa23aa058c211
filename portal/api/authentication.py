"""DRF authentication for the API: API keys, OAuth access tokens, and the dashboard's session.

Each class returns None for a credential that is not its own, raises ``AuthenticationFailed`` for a
bad one, and puts a ``Caller`` on ``request.auth``. Credentials in the query string are never read.
"""

from __future__ import annotations

import logging

from django.contrib.auth.models import AnonymousUser
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from accounts.selectors import user_memberships
from accounts.two_factor import TWO_FACTOR_REQUIRED_MESSAGE, has_second_factor
from apikeys import crypto
from apikeys.verification import KeyRefused, verify_api_key
from oauthapps.verification import verify_access_token
from portal.callers import Caller
from portal.conf import portal_settings
from portal.net import client_ip
from portal.ratelimit import prefetch_bucket

logger = logging.getLogger(__name__)


def header_credentials(request: Request) -> tuple[str | None, str | None]:
    """``(X-API-Key value, Bearer value)`` from the headers; the scheme name is case-insensitive.

    Two different credentials in the headers are refused: which one would be meant is a guess.
    """
    api_key = request.META.get("HTTP_X_API_KEY", "").strip() or None
    bearer = None
    authorization = request.META.get("HTTP_AUTHORIZATION", "").strip()
    if authorization:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise exceptions.AuthenticationFailed()
        bearer = value.strip()
    if api_key and bearer and api_key != bearer:
        raise exceptions.ValidationError(
            {"authorization": ["Send one credential: X-API-Key or Authorization, not both."]}
        )
    return api_key, bearer


def caller_for_key(key, counted=None) -> Caller:
    return Caller(
        auth_type="api_key",
        organization_id=key.organization_id,
        scopes=frozenset(key.scopes),
        credential=key,
        expires_at=key.expires_at,
        rate_limit_per_minute=key.rate_limit_per_minute,
        counted=counted,
    )


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """``X-API-Key: <key>`` or ``Authorization: Bearer <key>`` (told apart from OAuth tokens by prefix)."""

    def authenticate(self, request: Request):
        api_key, bearer = header_credentials(request)
        value = api_key or bearer
        if value is None:
            return None
        if api_key is None and not crypto.looks_like_key(value, prefix=portal_settings.KEY_PREFIX):
            return None  # a Bearer value that is not a key: an OAuth token, for the next class
        try:
            verified = verify_api_key(value, client_ip=client_ip(request._request),
                                      bucket_for=lambda public_id: prefetch_bucket(request._request, public_id))
        except KeyRefused as refused:
            logger.info("API key refused: %s", refused.reason)
            raise exceptions.AuthenticationFailed() from None
        return AnonymousUser(), caller_for_key(verified.key, verified.counted)

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


class OAuthTokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer <OAuth access token>``: any Bearer value that is not an API key."""

    def authenticate(self, request: Request):
        api_key, bearer = header_credentials(request)
        if api_key is not None or bearer is None or crypto.looks_like_key(bearer, prefix=portal_settings.KEY_PREFIX):
            return None
        caller = verify_access_token(bearer)
        if caller is None:
            raise exceptions.AuthenticationFailed()
        return caller.user or AnonymousUser(), caller

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


class PortalSessionAuthentication(authentication.SessionAuthentication):
    """The dashboard's session, for the browsable API and scripts run from a browser: CSRF-checked, acting in the
    organization named by the ``X-Organization`` header (a slug the person belongs to; another is a 404), else in
    the one they last opened in the dashboard, with scopes from their role there (contract section 11)."""

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
            current = request._request.session.get("current_org")
            membership = next((m for m in memberships if m.organization.slug == current), None) or next(
                iter(memberships), None
            )
        if membership is None or membership.organization.suspended_at is not None:
            raise exceptions.AuthenticationFailed()
        if membership.organization.require_two_factor and not has_second_factor(user):
            raise exceptions.PermissionDenied(TWO_FACTOR_REQUIRED_MESSAGE)
        return user, Caller.for_member(membership.organization, user, membership.role, auth_type="session")
