"""The portal's own 400, 404 and 500 pages with debug on too, on every path outside the API.

With ``DEBUG = True`` (the quick start) Django answers a missing page with its yellow technical 404, and an
uncaught exception or a bad request with its traceback page. Someone trying the portal should see the pages its
users see; the developer still gets the traceback, on the console, logged here as Django logs it with debug off.
``got_request_exception`` is sent as Django sends it, so the test client and error trackers still see the error.

With debug off this middleware does nothing: Django's own handlers render the same templates. ``PermissionDenied``
already renders ``403.html`` with debug on. The API keeps its JSON errors (``portal.api.middleware``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.core import signals
from django.core.exceptions import BadRequest, PermissionDenied, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.views import defaults

from portal.api.middleware import is_api_path

logger = logging.getLogger("django.request")


class DebugErrorPagesMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        # No URL matched (Django's resolver raised before any view, so process_exception never saw it).
        if response.status_code == 404 and request.resolver_match is None and self._applies(request):
            return defaults.page_not_found(request, Http404())
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not self._applies(request) or isinstance(exception, PermissionDenied):
            return None
        if isinstance(exception, Http404):
            return defaults.page_not_found(request, exception)
        if isinstance(exception, (BadRequest, SuspiciousOperation, MultiPartParserError)):
            logger.warning("Bad request: %s", request.path, exc_info=exception)
            return defaults.bad_request(request, exception)
        signals.got_request_exception.send(sender=None, request=request)
        logger.error("Internal Server Error: %s", request.path, exc_info=exception)
        return defaults.server_error(request)

    @staticmethod
    def _applies(request: HttpRequest) -> bool:
        return settings.DEBUG and not is_api_path(request.path_info)
