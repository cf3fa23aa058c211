"""Showing a new secret exactly once in the dashboard, across a POST-redirect-GET.

The POST that makes a secret stashes it, encrypted, in the session; the page it redirects to pops it.
Reloading that page finds nothing. The session row never holds the secret in clear, and only for
the moment between the redirect and the next request.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from portal.conf import portal_settings
from portal.encryption import DecryptionError, decrypt, encrypt

SESSION_KEY = "portal_show_once"


def public_base_url(request: HttpRequest) -> str:
    """The address snippets call the API at: ``PORTAL_BASE_URL`` in production; with debug on (the quick start) the
    scheme and host the page was opened at, so a portal opened at ``http://127.0.0.1:8000`` shows that address.
    (The host was checked against ``ALLOWED_HOSTS`` before any view ran.)"""
    if settings.DEBUG:
        return f"{request.scheme}://{request.get_host()}"
    return str(portal_settings.BASE_URL).rstrip("/")


def stash_secret(request: HttpRequest, payload: dict[str, Any]) -> None:
    request.session[SESSION_KEY] = encrypt(json.dumps(payload))


def pop_secret(request: HttpRequest, *, kind: str, organization: str | None = None) -> dict[str, Any] | None:
    """The stashed secret if it is of ``kind`` (and of ``organization``, when given), removed from the session.

    A secret stashed for another page (a client secret while the key page is open, another organization's
    key) is left where it is, for its own page.
    """
    ciphertext = request.session.get(SESSION_KEY)
    if not ciphertext:
        return None
    try:
        payload: dict[str, Any] = json.loads(decrypt(ciphertext))
    except (DecryptionError, ValueError):
        del request.session[SESSION_KEY]
        return None
    if payload.get("kind") != kind or (organization is not None and payload.get("organization") != organization):
        return None
    del request.session[SESSION_KEY]
    return payload


def show_once_redirect(request: HttpRequest, *, kind: str, organization: str, payload: dict[str, Any],
                       to: str) -> HttpResponse:
    """Stash a new secret for the show-once page ``to`` of ``organization`` (a URL name taking its slug), and
    redirect there. The secret never goes into a URL or the messages framework: only that page reads it, once."""
    stash_secret(request, {"kind": kind, "organization": organization, **payload})
    return redirect(to, organization)


def show_once_page(request: HttpRequest, *, kind: str, organization: str, template: str, gone_template: str,
                   context: dict[str, Any], payload_context: Callable[[dict[str, Any]], dict[str, Any]],
                   ) -> HttpResponse:
    """The one page that shows a secret stashed by :func:`show_once_redirect`, as ``secret`` in ``template``
    (with ``base_url`` for its snippets, and ``payload_context(secret)``). A reload finds nothing and renders
    ``gone_template``: 410 Gone."""
    payload = pop_secret(request, kind=kind, organization=organization)
    if payload is None:
        return render(request, gone_template, context, status=410)
    return render(request, template, {**context, "secret": payload, "base_url": public_base_url(request),
                                      **payload_context(payload)})
