"""JWT access tokens (RFC 9068) for clients registered with ``access_token_format = "jwt"``.

A resource server elsewhere verifies them with the JWKS alone (``/oauth/jwks/``); the portal's own API does
not trust the signature but looks the token up by its SHA-256 like an opaque token (DOT's RFC 9700 storage),
so a revocation holds there at once. They live 5 minutes, which bounds how long a revoked token still passes
a verifier that checks only the signature; one that must know sooner asks ``/oauth/introspect/``.

Both hooks are oauthlib's: ``BearerToken`` takes a token generator and an ``expires_in`` that may be callables
of the request (``oauthapps.server.PortalServer`` passes them).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from urllib.parse import urlsplit

from jwcrypto import jwt
from oauth2_provider.settings import oauth2_settings
from oauthlib.common import Request
from oauthlib.oauth2.rfc6749.tokens import random_token_generator

from accounts.models import Organization
from oauthapps.signing_keys import ALGORITHM, JWT_ACCESS_TOKEN_SECONDS, current_signing_key

JWT_HEADER_TYPE = "at+jwt"


def issues_jwt(request: Request) -> bool:
    return getattr(request.client, "access_token_format", "opaque") == "jwt"


def issuer(request: Request) -> str:
    """The issuer, as the OpenID discovery document and ID tokens name it: the origin the request came to.

    DOT hands oauthlib the path only, and DOT's ``oidc_issuer`` rebuilds the origin from the headers; a request
    made inside the portal (``POST /api/v1/auth``) carries the absolute URL instead."""
    parts = urlsplit(request.uri)
    if not oauth2_settings.OIDC_ISS_ENDPOINT and parts.scheme and parts.netloc:
        return f"{parts.scheme}://{parts.netloc}"
    return oauth2_settings.oidc_issuer(request)


def api_audience(issuer_url: str) -> str:
    """The ``aud`` of a JWT access token: the portal's API, the resource server these tokens are for."""
    return f"{issuer_url.rstrip('/')}/api/v1"


def access_token_generator(request: Request) -> str:
    """oauthlib's token generator: an RFC 9068 JWT for a ``jwt`` client, a random string otherwise."""
    if not issues_jwt(request):
        return random_token_generator(request)
    return signed_access_token(request)


def expires_in_for(default: int | Callable[[Request], int]) -> Callable[[Request], int]:
    """``expires_in`` for oauthlib: 5 minutes for JWT access tokens, ``default`` for opaque ones."""

    def expires_in(request: Request) -> int:
        if issues_jwt(request):
            return JWT_ACCESS_TOKEN_SECONDS
        return default(request) if callable(default) else default

    return expires_in


def signed_access_token(request: Request) -> str:
    """The JWT of RFC 9068 section 2: ``typ: at+jwt``, RS256 with the current signing key, ``kid`` in the header.

    ``org`` is the organization the token acts in (the one chosen on the consent page, or the client's own for
    client credentials); ``sub`` the person's stable id, or the client's id when no person is involved."""
    client = request.client
    organization_id = getattr(request, "portal_organization_id", None) or client.organization_id
    slug = Organization.objects.filter(pk=organization_id).values_list("slug", flat=True).first()
    # DOT may leave the client's owner on a client-credentials request; such a token acts for no person.
    user = None if request.grant_type == "client_credentials" else getattr(request, "user", None)
    now = int(time.time())
    iss = issuer(request)
    claims = {
        "iss": iss,
        "sub": str(user.pk) if user is not None and user.pk is not None else client.client_id,
        "aud": api_audience(iss),
        "client_id": client.client_id,
        "scope": " ".join(request.scopes or []),
        "iat": now,
        "exp": now + JWT_ACCESS_TOKEN_SECONDS,
        "jti": uuid.uuid4().hex,
        "org": slug,
    }
    key = current_signing_key()
    token = jwt.JWT(header={"alg": ALGORITHM, "typ": JWT_HEADER_TYPE, "kid": key.kid}, claims=json.dumps(claims))
    token.make_signed_token(key.jwk)
    return token.serialize()
