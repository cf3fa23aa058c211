"""Every API response carries an ``X-Request-Id``, and the apps that watch API traffic (usage counting, the
request log) see each finished response here, through a registry, so that ``portal`` imports no feature app.

The middleware is the outermost one for ``/api/`` paths: it sees every response, a 413 refused before the
body is read, a 429 and a 500 rendered by ``ApiErrorMiddleware`` included. Observers run after the response
is built, in the request's thread; they must be cheap (the usage recorder appends to an in-memory buffer)
and never break a response: an observer that raises is logged and skipped.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from portal.api.middleware import is_api_path
from portal.conf import portal_settings

logger = logging.getLogger(__name__)

REQUEST_ID_HEADER = "X-Request-Id"
# What an incoming id from a trusted proxy may look like: nginx's $request_id (32 hex), a UUID, Heroku's
# and most gateways' ids fit; anything else (too long, spaces, quotes) is replaced by one of ours.
WELL_FORMED_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:+=-]{7,127}")

class ObservedHttpRequest(HttpRequest):
    """An API request as ``ApiRequestIdMiddleware`` leaves it: named by ``request_id``. A type for annotations
    only; Django still passes a plain ``HttpRequest``."""

    request_id: str


# observer(request, response, started_at (Unix seconds), duration (seconds))
Observer = Callable[[ObservedHttpRequest, HttpResponse, float, float], None]
_observers: list[Observer] = []


def register_observer(observer: Observer) -> None:
    """Called by an app's ``ready()``; registering the same function twice keeps one."""
    if observer not in _observers:
        _observers.append(observer)


def new_request_id() -> str:
    """32 hex characters (128 random bits): as unguessable as a UUID, and what nginx's ``$request_id`` looks
    like, so ids made here and by a proxy read alike."""
    return os.urandom(16).hex()


def request_id_for(request: HttpRequest) -> str:
    """The proxy's id when a trusted proxy is in front (``PORTAL_TRUSTED_PROXY_COUNT``) and it is well formed;
    otherwise a new one. Without a trusted proxy the header comes from the client, who could reuse another
    request's id to muddle the log, so it is ignored."""
    if portal_settings.TRUSTED_PROXY_COUNT > 0:
        incoming: str = request.META.get("HTTP_X_REQUEST_ID", "")
        if incoming and WELL_FORMED_REQUEST_ID.fullmatch(incoming):
            return incoming
    return new_request_id()


class ApiRequestIdMiddleware:
    """Names each API request (``request.request_id``, the ``X-Request-Id`` response header) and hands the
    finished response to the observers."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: ObservedHttpRequest) -> HttpResponse:
        if not is_api_path(request.path_info):
            return self.get_response(request)
        started_at, started = time.time(), time.perf_counter()
        request.request_id = request_id_for(request)
        response = self.get_response(request)
        response[REQUEST_ID_HEADER] = request.request_id
        if _observers:
            duration = time.perf_counter() - started
            for observer in _observers:
                try:
                    observer(request, response, started_at, duration)
                except Exception:  # an observer must never cost a caller their response
                    logger.exception("API response observer %s failed", getattr(observer, "__qualname__", observer))
        return response
