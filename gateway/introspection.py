"""``/oauth/introspect/`` (RFC 7662) for resource servers: any organization's API key or access token.

A request whose HTTP Basic credentials are a resource server's (client ids ``rs_...``; an OAuth client's id never
holds an underscore) is answered here; every other request goes on to ``oauthapps.endpoints.IntrospectView`` as before
(an organization's own client introspecting its tokens, section 6).

The credential is checked by the same verifiers as the API (``apikeys.verification``, ``oauthapps.verification``)
but counted nowhere: no rate limit, no usage, no request log, so a service may cache the answer for a few seconds.
Every inactive case is ``{"active": false}`` and nothing else, so the answer tells nothing of why.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from oauth2_provider.models import AccessToken

from apikeys import crypto
from apikeys.authentication import caller_for_key
from apikeys.verification import KeyRefused, verify_api_key
from gateway import credentials
from gateway.decision import served_scopes
from gateway.selectors import authenticate_resource_server, organization_slug
from oauthapps.endpoints import IntrospectView, RefusesNulAsOAuthError, oauth_error
from oauthapps.verification import verify_access_token
from portal.conf import portal_settings
from portal.hashing import sha256

TOKEN_TYPE_HINTS = frozenset({"api_key", "access_token", "refresh_token"})
MAX_TOKEN_LENGTH = 4096


def is_resource_server_request(request: HttpRequest) -> bool:
    """HTTP Basic credentials whose client id is shaped like a resource server's."""
    pair = credentials.basic_credentials(request.META.get("HTTP_AUTHORIZATION"))
    return pair is not None and pair[0].startswith(credentials.CLIENT_ID_PREFIX)


def no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"
    return response


def inactive() -> JsonResponse:
    return JsonResponse({"active": False})


def introspect_api_key(value: str, *, served: list[str], client_ip: str | None) -> dict[str, Any] | None:
    try:
        key = verify_api_key(value, client_ip=client_ip)  # introspection counts nothing
    except KeyRefused:
        return None
    scopes = served_scopes(caller_for_key(key), served)
    if not scopes:
        return None
    answer = {"active": True, "token_type": "api_key", "scope": " ".join(scopes),
              "org": organization_slug(key.organization_id), "iat": int(key.created_at.timestamp()),
              "key_id": key.public_id}
    if key.expires_at is not None:
        answer["exp"] = int(key.expires_at.timestamp())
    return answer


def introspect_access_token(value: str, *, served: list[str]) -> dict[str, Any] | None:
    caller = verify_access_token(value)
    if caller is None:
        return None
    scopes = served_scopes(caller, served)
    if not scopes:
        return None
    created = AccessToken.objects.filter(token_checksum=sha256(value)).values_list("created", flat=True).first()
    if created is None:
        return None
    # An access token's caller always carries its expiry and its client (oauthapps.verification.caller_from_row).
    assert caller.expires_at is not None and caller.client is not None
    organization_id = caller.organization_id
    answer = {"active": True, "token_type": "access_token", "scope": " ".join(scopes),
              "org": organization_slug(organization_id) if organization_id is not None else "",
              "iat": int(created.timestamp()), "exp": int(caller.expires_at.timestamp()),
              "client_id": caller.client.client_id}
    if caller.user is not None:  # a person granted it (authorization code, device flow)
        answer["sub"] = str(caller.user.pk)
    return answer


@method_decorator(csrf_exempt, name="dispatch")
class ResourceServerIntrospectView(RefusesNulAsOAuthError, View):
    """In front of ``oauthapps.endpoints.IntrospectView``: resource servers here, everyone else there."""

    http_method_names = ["post", "get", "put", "patch", "delete", "head", "options"]

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not is_resource_server_request(request):
            return IntrospectView.as_view()(request, *args, **kwargs)
        return super().dispatch(request, *args, **kwargs)

    def http_method_not_allowed(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = oauth_error(405, "invalid_request", "Introspection takes a POST (RFC 7662 section 2.1).")
        response["Allow"] = "POST"
        return response

    get = put = patch = delete = head = options = http_method_not_allowed

    def post(self, request: HttpRequest) -> HttpResponse:
        server = authenticate_resource_server(request.META.get("HTTP_AUTHORIZATION"))
        if server is None:
            response = oauth_error(401, "invalid_client", "Unknown or disabled resource server, or a wrong secret.")
            response["WWW-Authenticate"] = 'Basic realm="oauth"'
            return no_store(response)
        if "client_id" in request.POST or "client_secret" in request.POST:
            return no_store(oauth_error(400, "invalid_request",
                                        "Authenticate one way only: HTTP Basic, not client credentials in the body "
                                        "as well (RFC 6749 section 2.3)."))
        token = request.POST.get("token", "")
        if not token:
            return no_store(oauth_error(400, "invalid_request", "token is required."))
        hint = request.POST.get("token_type_hint")
        if hint is not None and hint not in TOKEN_TYPE_HINTS:
            return no_store(oauth_error(400, "unsupported_token_type",
                                        "token_type_hint must be api_key or access_token, or be left out."))
        client_ip = request.POST.get("client_ip") or None
        if len(token) > MAX_TOKEN_LENGTH:
            return no_store(inactive())
        # The hint is only a hint (RFC 7662 2.1): a key's format tells it from a token before any I/O.
        if crypto.looks_like_key(token, prefix=portal_settings.KEY_PREFIX):
            answer = introspect_api_key(token, served=server.scopes, client_ip=client_ip)
        else:
            answer = introspect_access_token(token, served=server.scopes)
        return no_store(JsonResponse(answer) if answer is not None else inactive())
