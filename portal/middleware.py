"""Refuses NUL characters in a request's path, query string, form body and headers before any view runs.

PostgreSQL cannot store or compare text holding NUL (0x00): a query with one fails with ``DataError``, a 500.
SQLite takes it, so only one database would show the bug; the portal refuses such input everywhere, on every
database, before a query could see it. JSON bodies of the API are checked by its parser
(``portal.api.parsers``); this middleware never reads an API body, so no other parser is reachable there.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.template.loader import render_to_string

from portal.api.errors import InvalidInput, NotFound, render
from portal.api.middleware import is_api_path

NUL = "\x00"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


@dataclass(frozen=True)
class NulInput:
    """Where a NUL was found: ``part`` is ``"header"``, ``"path"``, ``"query"`` or ``"form"``; ``name`` the header
    (``Authorization``), the parameter or the form field (empty when the name itself holds the NUL)."""

    part: str
    name: str

    def describe(self) -> str:
        place = {"header": "header", "path": "path", "query": "query parameter", "form": "form field"}[self.part]
        named = f" {self.name}" if self.name and self.part != "path" else ""
        return f"A NUL character (\\u0000) is not allowed in the {place}{named}."


def _header_name(meta_key: str) -> str:
    return meta_key.removeprefix("HTTP_").replace("_", "-").title()


def _basic_credentials_hold_nul(value: str) -> bool:
    """HTTP Basic credentials (RFC 7617) decode to text, and OAuth form-encodes them once more (RFC 6749 2.3.1)."""
    if value[:6].lower() != "basic ":
        return False
    try:
        decoded = base64.b64decode(value[6:].strip(), validate=True).decode("utf-8", "replace")
    except (binascii.Error, ValueError):
        return False
    return NUL in decoded or NUL in unquote(decoded)


def _in_pairs(part: str, pairs: Any) -> NulInput | None:
    for name, values in pairs:
        if NUL in name:
            return NulInput(part, "")
        if any(NUL in value for value in values):
            return NulInput(part, name[:100])
    return None


def find_nul(request: HttpRequest) -> NulInput | None:
    """The first place of ``request`` that holds a NUL, or None. Headers come first: a cookie with a NUL must
    not reach the session store."""
    for key, value in request.META.items():
        if (key.startswith("HTTP_") or key in ("CONTENT_TYPE", "CONTENT_LENGTH")) and isinstance(value, str):
            if NUL in value or (key == "HTTP_AUTHORIZATION" and _basic_credentials_hold_nul(value)):
                return NulInput("header", _header_name(key))
    if NUL in request.path_info:
        return NulInput("path", "")
    query = request.META.get("QUERY_STRING", "")
    if (NUL in query or "%00" in query) and (found := _in_pairs("query", request.GET.lists())):
        return found
    if not is_api_path(request.path_info) and request.content_type in FORM_TYPES:
        return _in_pairs("form", request.POST.lists())
    return None


def bad_request_page(message: str) -> HttpResponse:
    """A 400 page rendered without the request: its session or user may be what holds the bad input."""
    return HttpResponseBadRequest(render_to_string("400.html", {"reason": message}))


class NulInputMiddleware:
    """Answers a request holding a NUL before its view runs.

    A view with its own error format declares ``refuse_nul_input(request, found) -> HttpResponse`` (the OAuth
    endpoints answer RFC 6749 errors); otherwise an API path gets 400 ``VALIDATION_ERROR`` (404 for a path,
    like any path that names nothing) and a page gets a 400 page (a 404 for a path).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func: Callable[..., Any], view_args: Any,
                     view_kwargs: Any) -> HttpResponse | None:
        found = find_nul(request)
        if found is None:
            return None
        refuse = getattr(getattr(view_func, "view_class", view_func), "refuse_nul_input", None)
        if refuse is not None:
            refusal: HttpResponse = refuse(request, found)
            return refusal
        if is_api_path(request.path_info):
            if found.part == "path":
                return render(NotFound())
            field = "headers" if found.part == "header" else "query"
            return render(InvalidInput({field: [found.describe()]}))
        if found.part == "path":
            raise Http404("No page at a path holding NUL.")
        return bad_request_page(found.describe())
