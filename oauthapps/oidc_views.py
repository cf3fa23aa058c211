"""The OpenID Connect and metadata endpoints: userinfo, the JWKS, RFC 8414 and OpenID discovery.

The metadata documents are DOT's, with what the portal adds: the device authorization endpoint, the JWKS,
userinfo, and only what the server accepts (``S256``, ``code``, the grants of ``OAUTH2_GRANT_TYPES_SUPPORTED``).
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from django.views.generic import View
from oauth2_provider.settings import oauth2_settings
from oauth2_provider.views import ConnectDiscoveryInfoView, OAuthServerMetadataView, UserInfoView

from oauthapps.oidc import CLAIMS_SUPPORTED
from oauthapps.signing_keys import ALGORITHM, published_keys
from oauthapps.verification import verify_access_token


def _endpoint(request: HttpRequest, name: str) -> str:
    """An endpoint's absolute URL, on the issuer's origin when ``OIDC_ISS_ENDPOINT`` names one (as DOT does)."""
    path = reverse(f"oauth2_provider:{name}")
    if oauth2_settings.OIDC_ISS_ENDPOINT:
        issuer = urlsplit(oauth2_settings.OIDC_ISS_ENDPOINT)
        return f"{issuer.scheme}://{issuer.netloc}{path}"
    return request.build_absolute_uri(path)


def metadata_additions(request: HttpRequest) -> dict:
    """What both metadata documents say beyond DOT's own: every endpoint, grant and algorithm the portal has."""
    return {
        "grant_types_supported": list(oauth2_settings.OAUTH2_GRANT_TYPES_SUPPORTED),
        "response_types_supported": list(oauth2_settings.OAUTH2_RESPONSE_TYPES_SUPPORTED),
        "code_challenge_methods_supported": ["S256"],
        "device_authorization_endpoint": _endpoint(request, "device-authorization"),
        "revocation_endpoint": _endpoint(request, "revoke-token"),
        "introspection_endpoint": _endpoint(request, "introspect"),
        "userinfo_endpoint": _endpoint(request, "user-info"),
        "jwks_uri": _endpoint(request, "jwks-info"),
        "id_token_signing_alg_values_supported": [ALGORITHM],
        # RFC 9068 access tokens are signed with the same keys.
        "access_token_signing_alg_values_supported": [ALGORITHM],
        "subject_types_supported": ["public"],
        "claims_supported": CLAIMS_SUPPORTED,
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
    }


def _amended(response: HttpResponse, additions: dict) -> JsonResponse:
    document = {**json.loads(response.content), **additions}
    amended = JsonResponse(document, status=response.status_code)
    amended["Access-Control-Allow-Origin"] = "*"
    return amended


class ServerMetadata(OAuthServerMetadataView):
    """``/.well-known/oauth-authorization-server`` (RFC 8414)."""

    def get(self, request: HttpRequest, *args, **kwargs) -> JsonResponse:
        return _amended(super().get(request, *args, **kwargs), metadata_additions(request))


class OpenIDConfiguration(ConnectDiscoveryInfoView):
    """``/.well-known/openid-configuration`` (OpenID Connect Discovery 1.0)."""

    def get(self, request: HttpRequest, *args, **kwargs) -> JsonResponse:
        additions = {**metadata_additions(request), "prompt_values_supported": ["none", "login"]}
        return _amended(super().get(request, *args, **kwargs), additions)


class JwksView(View):
    """The JWKS: the key that signs now and the retired keys whose tokens may still be live."""

    def get(self, request: HttpRequest, *args, **kwargs) -> JsonResponse:
        response = JsonResponse({"keys": published_keys()})
        response["Access-Control-Allow-Origin"] = "*"
        # Short enough that a verifier sees a new key well before the retired one leaves the set.
        response["Cache-Control"] = "public, max-age=300"
        return response


@method_decorator(csrf_exempt, name="dispatch")
class PortalUserInfoView(UserInfoView):
    """``/oauth/userinfo/``: DOT's, behind the same check as the API's (a token of a suspended organization, of
    a removed member or a revoked client is refused here too)."""

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        scheme, _, token = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
        caller = verify_access_token(token.strip()) if scheme.lower() == "bearer" else None
        if caller is None:
            return _bearer_error(401, "invalid_token")
        if "openid" not in caller.scopes:  # RFC 6750 section 3.1
            return _bearer_error(403, "insufficient_scope")
        response = super().dispatch(request, *args, **kwargs)
        response["Cache-Control"] = "no-store"
        return response


def _bearer_error(status: int, error: str) -> JsonResponse:
    response = JsonResponse({"error": error}, status=status)
    response["WWW-Authenticate"] = f'Bearer error="{error}"'
    response["Cache-Control"] = "no-store"
    return response
