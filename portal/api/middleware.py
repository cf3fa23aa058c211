"""Keeps every response under ``/api/`` in the contract's JSON format, whatever happens."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from portal.api.errors import PayloadTooLarge, ServerError, render, render_exception

logger = logging.getLogger("portal.api")

API_PREFIX = "/api/"


def is_api_path(path: str) -> bool:
    return path.startswith(API_PREFIX)


class ApiErrorMiddleware:
    """Refuses oversized bodies before they are read, and turns any exception a view lets escape into
    JSON (500 ``SERVER_ERROR``, or 503 when the database is out of reach), with debug on or off."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if is_api_path(request.path_info):
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
                return render(PayloadTooLarge())
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_api_path(request.path_info):
            return None
        response = render_exception(exception)
        if response is not None:
            return response
        logger.exception("Unhandled error on %s %s", request.method, request.path_info)
        return render(ServerError())
