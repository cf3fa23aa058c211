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


def pop_secret(request: HttpRequest) -> dict[str, Any] | None:
    ciphertext = request.session.pop(SESSION_KEY, None)
    if not ciphertext:
        return None
    try:
        return json.loads(decrypt(ciphertext))
    except (DecryptionError, ValueError):
        return None
