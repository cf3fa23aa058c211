from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from audit.context import RequestContext, reset_request_context, set_request_context
from portal.net import client_ip
from portal.scrub import scrub_keys


class RequestContextMiddleware:
    """Records the client's IP address and user agent for the audit events of this request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = set_request_context(
            RequestContext(
                ip_address=client_ip(request) or None,
                user_agent=scrub_keys(request.META.get("HTTP_USER_AGENT", ""))[:300],
            )
        )
        try:
            return self.get_response(request)
        finally:
            reset_request_context(token)
