"""The decision on one call: the same code the portal's own API runs, for a call that reached another service.

    decision = decide(ForwardedCall(method="GET", headers={...}, client_ip="203.0.113.9"), served=server.scopes,
                      required=["orders:read"])

Each step is the API's own, called through its public entry points, never copied:

1. the credential: the API's authentication classes (``apikeys.authentication.ApiKeyAuthentication`` and
   ``oauthapps.authentication.OAuthTokenAuthentication``), which read the same headers (``X-API-Key`` or
   ``Authorization: Bearer``, two different ones refused) and run the verifiers: format and checksum before any
   I/O, the keyed hash in constant time, revoked, expired, rotated past its grace, IP ranges, organization
   suspended, and for a token its person's membership and role;
2. the rate limit: ``portal.api_counters.api_usage``, the API's counter, in the same bucket as the credential's
   calls to the portal's own API (read or write by the original method), and a refused credential counted per
   client address, as ``PortalAPIView.handle_exception`` does;
3. the scopes: ``Caller.missing_scopes`` (``admin`` implies every scope), cut to what the resource server serves.

The API's authentication classes take a request; ``ForwardedCall`` is the part of one they read (the two
credential headers, the method and the client's address), filled from the gateway's headers rather than from
the gateway's own connection.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import cast

from django.http import HttpRequest
from rest_framework import exceptions
from rest_framework.request import Request

from apikeys.authentication import ApiKeyAuthentication
from oauthapps.authentication import OAuthTokenAuthentication
from portal.api.errors import ApiError, AuthFailed, InsufficientScope, RateLimited, as_api_error
from portal.api_counters import api_usage
from portal.callers import Caller
from portal.ratelimit import RateWindow
from portal.scopes import ADMIN_SCOPE

AUTHENTICATION_CLASSES = (ApiKeyAuthentication, OAuthTokenAuthentication)


class ForwardedCall:
    """What the API's authentication classes and counters read of a request: ``META`` (the credential headers,
    and the client's address as ``REMOTE_ADDR``) and ``method``."""

    def __init__(self, *, method: str, client_ip: str, api_key: str | None = None,
                 authorization: str | None = None) -> None:
        self.method = method
        self.META: dict[str, str] = {"REMOTE_ADDR": client_ip}
        if api_key is not None:
            self.META["HTTP_X_API_KEY"] = api_key
        if authorization is not None:
            self.META["HTTP_AUTHORIZATION"] = authorization


@dataclass
class Decision:
    caller: Caller | None = None
    scopes: list[str] = field(default_factory=list)  # granted scopes that the resource server serves
    usage: RateWindow | None = None
    error: ApiError | None = None

    @property
    def allowed(self) -> bool:
        return self.error is None

    @property
    def status(self) -> int:
        return 200 if self.error is None else self.error.status_code


def served_scopes(caller: Caller, served: Iterable[str]) -> list[str]:
    """The credential's scopes that the resource server serves; ``admin`` grants every one of them."""
    if ADMIN_SCOPE in caller.scopes:
        return list(served)
    return [scope for scope in served if scope in caller.scopes]


def authenticate(call: ForwardedCall) -> Caller:
    """The caller, or an ``ApiError`` (``AUTH_FAILED`` for no credential, a malformed or refused one;
    ``VALIDATION_ERROR`` for two different ones)."""
    try:
        for authentication_class in AUTHENTICATION_CLASSES:
            # The classes read only ``META`` and ``method`` of their request (and may note the count on it).
            result = authentication_class().authenticate(cast(Request, call))
            if result is not None:
                caller: Caller = result[1]
                return caller
    except exceptions.APIException as refused:
        error = as_api_error(refused)
        assert error is not None  # every APIException has the contract's form (a generic one keeps its status)
        raise error from None
    raise AuthFailed()


def decide(call: ForwardedCall, *, served: list[str], required: list[str] | None) -> Decision:
    """Allowed or refused, counted once in the credential's rate limit (``required`` is a subset of ``served``,
    checked by the caller; None: any one served scope will do)."""
    # ``api_usage`` reads only ``META``, ``method`` and what the verifiers noted on the call (``ForwardedCall``).
    try:
        caller = authenticate(call)
    except ApiError as refused:
        usage = api_usage(cast(HttpRequest, call), None)  # guessing keys is not free either
        if usage is not None and usage.exceeded:
            return Decision(usage=usage, error=RateLimited(retry_after=usage.retry_after))
        return Decision(usage=usage, error=refused)
    usage = api_usage(cast(HttpRequest, call), caller)
    decision = Decision(caller=caller, usage=usage, scopes=served_scopes(caller, served))
    if usage is not None and usage.exceeded:
        decision.error = RateLimited(retry_after=usage.retry_after)
    elif required:
        lacking = caller.missing_scopes(required)
        if lacking:
            decision.error = InsufficientScope(lacking)
    elif not decision.scopes:
        decision.error = InsufficientScope(list(served))
    return decision
