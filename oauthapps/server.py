"""The OAuth 2.0 server: only the grants the portal offers, so anything else is ``unsupported_grant_type``."""

from __future__ import annotations

from oauthlib.oauth2.rfc6749 import errors
from oauthlib.oauth2.rfc6749.endpoints import (
    AuthorizationEndpoint,
    IntrospectEndpoint,
    ResourceEndpoint,
    RevocationEndpoint,
    TokenEndpoint,
)
from oauthlib.oauth2.rfc6749.grant_types import AuthorizationCodeGrant, ClientCredentialsGrant, RefreshTokenGrant
from oauthlib.oauth2.rfc6749.tokens import BearerToken

GRANT_TYPES = ("authorization_code", "client_credentials", "refresh_token")


def refuse_plain_pkce(request) -> dict:
    """RFC 7636 4.4.1 / RFC 9700 2.1.1: only ``S256``. oauthlib accepts ``plain`` (also the default when a
    challenge comes without a method) and DOT refuses it only when the code is made, after the person has
    consented; checked with the request, the error goes back to the client before the consent page."""
    if request.code_challenge is not None and request.code_challenge_method != "S256":
        raise errors.UnsupportedCodeChallengeMethodError(
            description='Unsupported code_challenge_method; use "S256".', request=request)
    return {}


class PortalServer(AuthorizationEndpoint, IntrospectEndpoint, TokenEndpoint, ResourceEndpoint, RevocationEndpoint):
    """oauthlib's all-in-one ``Server`` without the implicit, password and device grants (RFC 9700)."""

    def __init__(self, request_validator, token_expires_in=None, token_generator=None,
                 refresh_token_generator=None, *args, **kwargs) -> None:
        self.auth_grant = AuthorizationCodeGrant(request_validator, post_auth=[refuse_plain_pkce])
        self.credentials_grant = ClientCredentialsGrant(request_validator)
        self.refresh_grant = RefreshTokenGrant(request_validator)
        self.bearer = BearerToken(request_validator, token_generator, token_expires_in, refresh_token_generator)
        AuthorizationEndpoint.__init__(
            self, default_response_type="code", response_types={"code": self.auth_grant},
            default_token_type=self.bearer,
        )
        TokenEndpoint.__init__(
            self,
            default_grant_type="authorization_code",
            grant_types={
                "authorization_code": self.auth_grant,
                "client_credentials": self.credentials_grant,
                "refresh_token": self.refresh_grant,
            },
            default_token_type=self.bearer,
        )
        ResourceEndpoint.__init__(self, default_token="Bearer", token_types={"Bearer": self.bearer})
        RevocationEndpoint.__init__(self, request_validator)
        IntrospectEndpoint.__init__(self, request_validator)
