"""Showing a new secret exactly once in the dashboard, across a POST-redirect-GET.

The POST that makes a secret stashes it, encrypted, in the session; the page it redirects to pops it.
Reloading that page finds nothing. The session row never holds the secret in clear, and only for
the moment between the redirect and the next request.
"""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest

from portal.encryption import DecryptionError, decrypt, encrypt

SESSION_KEY = "portal_show_once"


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
        payload = json.loads(decrypt(ciphertext))
    except (DecryptionError, ValueError):
        del request.session[SESSION_KEY]
        return None
    if payload.get("kind") != kind or (organization is not None and payload.get("organization") != organization):
        return None
    del request.session[SESSION_KEY]
    return payload
