"""The OAuth 2.0 server: only the grants the portal offers, so anything else is ``unsupported_grant_type``.

OpenID Connect rides on the authorization code grant (oauthlib's dispatchers pick the OpenID grant when
``openid`` is asked for), and the device authorization grant (RFC 8628) is offered for command-line tools.
"""

from __future__ import annotations

from oauthlib.oauth2.rfc6749 import errors
from oauthlib.oauth2.rfc6749.endpoints import (
    AuthorizationEndpoint,
    IntrospectEndpoint,
    ResourceEndpoint,
    RevocationEndpoint,
    TokenEndpoint,
)
from oauthlib.oauth2.rfc6749.grant_types import AuthorizationCodeGrant, ClientCredentialsGrant
from oauthlib.oauth2.rfc6749.tokens import BearerToken, random_token_generator
from oauthlib.oauth2.rfc8628.grant_types import DeviceCodeGrant
from oauthlib.openid.connect.core.endpoints.userinfo import UserInfoEndpoint
from oauthlib.openid.connect.core.grant_types import AuthorizationCodeGrant as OpenIDAuthorizationCodeGrant
from oauthlib.openid.connect.core.grant_types import RefreshTokenGrant
from oauthlib.openid.connect.core.grant_types.dispatchers import (
    AuthorizationCodeGrantDispatcher,
    AuthorizationTokenGrantDispatcher,
)

from oauthapps.jwt_tokens import access_token_generator, expires_in_for
from oauthapps.models import DEVICE_CODE_GRANT

# refresh_token last: it needs one of the others, whose DOT name becomes the client's `authorization_grant_type`.
GRANT_TYPES = ("authorization_code", "client_credentials", DEVICE_CODE_GRANT, "refresh_token")


def refuse_plain_pkce(request) -> dict:
    """RFC 7636 4.4.1 / RFC 9700 2.1.1: only ``S256``. oauthlib accepts ``plain`` (also the default when a
    challenge comes without a method) and DOT refuses it only when the code is made, after the person has
    consented; checked with the request, the error goes back to the client before the consent page."""
    if request.code_challenge is not None and request.code_challenge_method != "S256":
        raise errors.UnsupportedCodeChallengeMethodError(
            description='Unsupported code_challenge_method; use "S256".', request=request)
    return {}


class PortalServer(AuthorizationEndpoint, IntrospectEndpoint, TokenEndpoint, ResourceEndpoint, RevocationEndpoint,
                   UserInfoEndpoint):
    """oauthlib's all-in-one OpenID ``Server`` without the implicit, hybrid and password grants (RFC 9700).

    Access tokens come from ``oauthapps.jwt_tokens``: random strings, or RFC 9068 JWTs (5 minutes) for a client
    registered for them. Refresh tokens are always random. The device grant gets no ``pre_token`` hook:
    DOT's default looks the device code up in clear, and the portal stores only its hash
    (``PortalOAuth2Validator.validate_device_code`` does that work)."""

    def __init__(self, request_validator, token_expires_in=None, token_generator=None,
                 refresh_token_generator=None, *args, **kwargs) -> None:
        self.auth_grant = AuthorizationCodeGrant(request_validator, post_auth=[refuse_plain_pkce])
        # The OpenID grant wraps a code grant of its own, which gets the same check.
        self.openid_connect_auth = OpenIDAuthorizationCodeGrant(request_validator, post_auth=[refuse_plain_pkce])
        self.credentials_grant = ClientCredentialsGrant(request_validator)
        self.refresh_grant = RefreshTokenGrant(request_validator)
        self.device_code_grant = DeviceCodeGrant(request_validator)
        self.bearer = BearerToken(
            request_validator,
            token_generator or access_token_generator,
            expires_in_for(token_expires_in or 3600),
            refresh_token_generator or random_token_generator,
        )
        auth_grant_choice = AuthorizationCodeGrantDispatcher(default_grant=self.auth_grant,
                                                             oidc_grant=self.openid_connect_auth)
        AuthorizationEndpoint.__init__(
            self, default_response_type="code", response_types={"code": auth_grant_choice},
            default_token_type=self.bearer,
        )
        token_grant_choice = AuthorizationTokenGrantDispatcher(
            request_validator, default_grant=self.auth_grant, oidc_grant=self.openid_connect_auth
        )
        TokenEndpoint.__init__(
            self,
            default_grant_type="authorization_code",
            grant_types={
                "authorization_code": token_grant_choice,
                "client_credentials": self.credentials_grant,
                "refresh_token": self.refresh_grant,
                DEVICE_CODE_GRANT: self.device_code_grant,
            },
            default_token_type=self.bearer,
        )
        ResourceEndpoint.__init__(self, default_token="Bearer", token_types={"Bearer": self.bearer})
        RevocationEndpoint.__init__(self, request_validator)
        IntrospectEndpoint.__init__(self, request_validator)
        UserInfoEndpoint.__init__(self, request_validator)
