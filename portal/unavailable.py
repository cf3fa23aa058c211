"""Django's error handlers: ``handler500``, where an error the database causes is a 503 with ``Retry-After``,
never a 500 (section 20 of the contract), and ``handler400``, where a request Django refuses before any view runs
(a ``Host`` header that is not allowed, a malformed cookie) gets the API's JSON envelope on an API path (section 5:
never an HTML page there).

With the database down, what does not need it keeps working (a credential verified within
``PORTAL_CREDENTIAL_CACHE_SECONDS``, ``portal.credential_cache``), and anything that needs it fails with
Django's ``OperationalError`` or ``InterfaceError``, wherever that happens: in a view, in a middleware (a session
read), or in a template. API views already answer those with the JSON 503 (``portal.api.errors``); this handler
catches the rest, which Django hands to ``handler500`` while the exception is being handled: API paths get the
JSON envelope, pages a 503 page. Nothing needs to be reset: psycopg's pool and Django's connection handling drop a
broken connection and open a new one once the database answers, so everything recovers by itself.
"""

from __future__ import annotations

import logging
import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, HttpResponseServerError
from django.template import loader
from django.views import defaults

from portal.api.errors import InvalidInput, ServerError, ServiceUnavailable, render
from portal.api.middleware import is_api_path

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5
DATABASE_ERRORS = (OperationalError, InterfaceError)


def database_unavailable(exc: BaseException | None) -> bool:
    """Whether ``exc`` (or what caused it) says the database cannot be reached."""
    while exc is not None:
        if isinstance(exc, DATABASE_ERRORS):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def unavailable_page() -> HttpResponse:
    """The 503 page, rendered without the request: its context processors would ask the database again."""
    response = HttpResponse(loader.get_template("503.html").render(), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def server_error(request: HttpRequest, template_name: str = "500.html") -> HttpResponse:
    if database_unavailable(sys.exc_info()[1]):
        logger.error("Database unavailable: answering %s %s with 503", request.method, request.path_info)
        if is_api_path(request.path_info):
            return render(ServiceUnavailable(retry_after=RETRY_AFTER_SECONDS))
        return unavailable_page()
    if is_api_path(request.path_info):
        return render(ServerError())
    response: HttpResponseServerError = defaults.server_error(request, template_name)
    return response


def bad_request(request: HttpRequest, exception: Exception, template_name: str = "400.html") -> HttpResponse:
    if is_api_path(request.path_info):
        return render(InvalidInput({"request": ["The request was refused (its Host header or another header is not "
                                                "valid)."]}, detail="Bad request"))
    response: HttpResponse = defaults.bad_request(request, exception, template_name)
    return response
