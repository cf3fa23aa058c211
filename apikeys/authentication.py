"""DRF authentication with an API key (``portal.api.authentication`` says what every class shares)."""

from __future__ import annotations

import logging

from django.contrib.auth.models import AnonymousUser
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from apikeys import crypto
from apikeys.models import ApiKey
from apikeys.verification import KeyRefused, verify_api_key
from portal.api.authentication import BEARER_REALM, header_credentials
from portal.callers import Caller
from portal.conf import portal_settings
from portal.net import client_ip

logger = logging.getLogger(__name__)


def caller_for_key(key: ApiKey) -> Caller:
    return Caller(
        auth_type="api_key",
        organization_id=key.organization_id,
        scopes=frozenset(key.scopes),
        credential=key,
        expires_at=key.expires_at,
        rate_limit_per_minute=key.rate_limit_per_minute,
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
            key = verify_api_key(value, client_ip=client_ip(request))
        except KeyRefused as refused:
            logger.info("API key refused: %s", refused.reason)
            raise exceptions.AuthenticationFailed() from None
        return AnonymousUser(), caller_for_key(key)

    def authenticate_header(self, request: Request) -> str:
        return BEARER_REALM
