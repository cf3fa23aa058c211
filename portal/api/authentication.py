"""What the API's authentication classes share: reading the credential headers.

Each class lives beside its verifier, as django-oauth-toolkit keeps ``OAuth2Authentication`` in its own package:
``apikeys.authentication`` (API keys), ``oauthapps.authentication`` (OAuth access tokens) and
``accounts.authentication`` (the dashboard's session); ``REST_FRAMEWORK`` names them. Each returns None for a
credential that is not its own, raises ``AuthenticationFailed`` for a bad one, and puts a ``Caller`` on
``request.auth``. Credentials in the query string are never read.
"""

from __future__ import annotations

from rest_framework import exceptions
from rest_framework.request import Request

BEARER_REALM = 'Bearer realm="api"'


def header_credentials(request: Request) -> tuple[str | None, str | None]:
    """``(X-API-Key value, Bearer value)`` from the headers; the scheme name is case-insensitive.

    Two different credentials in the headers are refused: which one would be meant is a guess.
    """
    meta = request.META
    api_key = meta.get("HTTP_X_API_KEY", "").strip() or None
    bearer = None
    authorization = meta.get("HTTP_AUTHORIZATION", "").strip()
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
