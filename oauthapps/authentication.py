"""DRF authentication with an OAuth access token (``portal.api.authentication`` says what every class shares)."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from apikeys import crypto
from oauthapps.verification import verify_access_token
from portal.api.authentication import BEARER_REALM, header_credentials
from portal.conf import portal_settings


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
        return BEARER_REALM
