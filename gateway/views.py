"""``/gateway/auth``: forward authentication for nginx ``auth_request``, Traefik ``ForwardAuth``, Caddy
``forward_auth`` and Envoy's HTTP ``ext_authz`` (section 18 of the contract).

The gateway authenticates as a resource server in ``Portal-Gateway-Authorization``; without a valid one the answer
is 403 ``GATEWAY_REFUSED`` and nothing is counted or logged. Otherwise the client's credential gets the decision
of the portal's own API (``gateway.decision``), counted in its rate limit and usage and logged with the original
method and path and the resource server's name. An allowed call is a 200 with an empty body and the identity
headers; a refusal is the API's own answer, with ``Portal-Status`` and ``Portal-Error-Body`` (its JSON on one
line) beside it, so a gateway that tells only 401 and 403 apart (``Portal-Refusal-Status: 403``, nginx) can
rebuild it.
"""

from __future__ import annotations

import ipaddress
import json
import re
import time
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from apikeys import crypto
from apikeys.models import ApiKey
from gateway.decision import Decision, ForwardedCall, decide
from gateway.selectors import authenticate_resource_server, organization_slug
from portal.api.errors import ApiError, InvalidInput, render
from portal.api.observe import new_request_id
from portal.conf import portal_settings
from portal.middleware import NulInput
from portal.ratelimit import RateWindow
from usage.recorder import recorder

MAX_URI_LENGTH = 8192
MAX_SCOPES_HEADER_LENGTH = 2048
METHOD = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,10}")
# A dotted quad as ``ipaddress`` writes it (no leading zero): its own normal form, so it needs no parsing.
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
CANONICAL_IPV4 = re.compile(rf"{_OCTET}(?:\.{_OCTET}){{3}}")


class GatewayRefused(ApiError):
    status_code = 403
    default_detail = "The caller is not an enabled resource server."
    default_code = "GATEWAY_REFUSED"


def refusal(error: ApiError, request: HttpRequest, *, request_id: str, usage: RateWindow | None = None,
            ) -> HttpResponse:
    """The API's answer for ``error``, with ``Portal-Status`` and ``Portal-Error-Body``; a 403 carrying them when
    the gateway asked for ``Portal-Refusal-Status: 403``."""
    response = render(error)
    response["Portal-Status"] = str(response.status_code)
    response["Portal-Error-Body"] = json.dumps(json.loads(response.content), separators=(",", ":"))
    if usage is not None:
        for name, value in usage.headers().items():
            response[name] = value
    if request.META.get("HTTP_PORTAL_REFUSAL_STATUS", "").strip() == "403" and response.status_code != 403:
        response.status_code = 403
        response.reason_phrase = "Forbidden"
        if "WWW-Authenticate" in response:
            del response["WWW-Authenticate"]  # a 403 has none; the gateway adds it to the 401 it rebuilds
    response["X-Request-Id"] = request_id
    return response


def logged_path(uri: str) -> str:
    """The path of the original URI without its query, a segment shaped like an API key kept as its public id
    (the secret cut out, as in every log of the portal)."""
    path = uri.split("?", 1)[0].split("#", 1)[0] or "/"
    prefix = portal_settings.KEY_PREFIX
    if f"{prefix}_" not in path:
        return path
    segments = path.split("/")
    for index, segment in enumerate(segments):
        if crypto.looks_like_key(segment, prefix=prefix):
            public_id = crypto.public_id_in(segment, prefix=prefix)
            environment = segment.split("_")[1]
            segments[index] = crypto.mask(public_id or "", prefix=prefix, environment=environment)
    return "/".join(segments)


def forwarded_client_ip(request: HttpRequest) -> str | None:
    """The last entry of ``X-Forwarded-For`` (the one the authenticated gateway added), else the peer's address;
    None when it is not an IP address."""
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    address = forwarded.rsplit(",", 1)[-1].strip() if forwarded.strip() else request.META.get("REMOTE_ADDR", "")
    if CANONICAL_IPV4.fullmatch(address):
        return address
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


class GatewayAuthView(View):
    """Any method: the gateway forwards the client's method in a header, and sends its own as it likes."""

    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options", "trace"]

    @classmethod
    def as_view(cls, **initkwargs: Any) -> Callable[..., HttpResponseBase]:
        """CSRF-exempt once, here: ``method_decorator(csrf_exempt)`` on ``dispatch`` wraps it anew on every call."""
        return csrf_exempt(super().as_view(**initkwargs))

    @staticmethod
    def refuse_nul_input(request: HttpRequest, found: NulInput) -> HttpResponse:
        """For ``portal.middleware.NulInputMiddleware``: a NUL anywhere is a 400, before anything is counted."""
        field = "headers" if found.part == "header" else "query"
        return refusal(InvalidInput({field: [found.describe()]}), request, request_id=new_request_id())

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        started_at, started = time.time(), time.perf_counter()
        request_id = new_request_id()
        server = authenticate_resource_server(request.META.get("HTTP_PORTAL_GATEWAY_AUTHORIZATION"))
        if server is None:
            return refusal(GatewayRefused(), request, request_id=request_id)
        meta = request.META
        required_header = meta.get("HTTP_PORTAL_REQUIRED_SCOPES")
        required = None
        if required_header is not None:
            if len(required_header) > MAX_SCOPES_HEADER_LENGTH:
                return refusal(InvalidInput({"Portal-Required-Scopes": ["Too long."]}), request,
                               request_id=request_id)
            required = list(dict.fromkeys(required_header.split()))
            not_served = [scope for scope in required if scope not in server.scopes]
            if not_served:
                return refusal(GatewayRefused(
                    f"The resource server does not serve {', '.join(s[:100] for s in not_served[:10])}."),
                    request, request_id=request_id)
        # A request without a method of its own (only a hand-made HttpRequest) is refused as not an HTTP method.
        method: str = meta.get("HTTP_X_FORWARDED_METHOD") or meta.get("HTTP_X_ORIGINAL_METHOD") or request.method or ""
        uri: str = meta.get("HTTP_X_FORWARDED_URI") or meta.get("HTTP_X_ORIGINAL_URI") or self.uri_in_path(request)
        client_ip = forwarded_client_ip(request)
        problems: dict[str, list[str]] = {}
        if not METHOD.fullmatch(method):
            problems["X-Forwarded-Method"] = ["Not an HTTP method."]
        if len(uri) > MAX_URI_LENGTH:
            problems["X-Forwarded-Uri"] = [f"Longer than {MAX_URI_LENGTH} characters."]
        if client_ip is None:
            problems["X-Forwarded-For"] = ["The last entry is not an IP address."]
        if problems:
            return refusal(InvalidInput(problems), request, request_id=request_id)
        assert client_ip is not None  # a problem otherwise, refused above
        call = ForwardedCall(method=method.upper(), client_ip=client_ip, api_key=meta.get("HTTP_X_API_KEY"),
                             authorization=meta.get("HTTP_AUTHORIZATION"))
        decision = decide(call, served=server.scopes, required=required)
        response = self.answer(decision, request, request_id=request_id)
        if decision.caller is not None:
            recorder.record(decision.caller, request_id=request_id, started_at=started_at,
                            duration=time.perf_counter() - started, method=method.upper(), path=logged_path(uri),
                            status=decision.status, ip=client_ip,
                            user_agent=meta.get("HTTP_USER_AGENT", ""), resource_server=server.name)
        return response

    @staticmethod
    def uri_in_path(request: HttpRequest) -> str:
        """Envoy sends the original path after ``/gateway/auth`` (its ``path_prefix``) and the original method as
        the request's own."""
        original = request.path_info.removeprefix("/gateway/auth")
        query = request.META.get("QUERY_STRING", "")
        return (original or "/") + (f"?{query}" if query else "")

    @staticmethod
    def answer(decision: Decision, request: HttpRequest, *, request_id: str) -> HttpResponse:
        if decision.error is not None:
            return refusal(decision.error, request, request_id=request_id, usage=decision.usage)
        caller = decision.caller
        assert caller is not None  # decide() allows only an authenticated caller
        response = HttpResponse(status=200)
        del response["Content-Type"]
        organization_id = caller.organization_id
        response["Portal-Organization"] = organization_slug(organization_id) if organization_id is not None else ""
        if caller.auth_type == "api_key":
            key = caller.credential
            assert isinstance(key, ApiKey)  # a key's caller carries its key (apikeys.authentication.caller_for_key)
            response["Portal-Credential"] = f"api_key:{key.public_id}"
        else:
            client = caller.client
            assert client is not None  # the other caller decide() allows is an OAuth token's, made with its client
            response["Portal-Credential"] = f"oauth2:{client.client_id}"
        response["Portal-Scopes"] = " ".join(decision.scopes)
        if caller.auth_type == "oauth2" and caller.user is not None:
            response["Portal-Subject"] = str(caller.user.pk)
        if decision.usage is not None:
            for name, value in decision.usage.headers().items():
                response[name] = value
        response["X-Request-Id"] = request_id
        response["Cache-Control"] = "no-store"
        return response
