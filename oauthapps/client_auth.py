"""How a client authenticates to the token endpoints (RFC 6749 2.3.1): HTTP Basic or the request body, never both."""

from __future__ import annotations

import base64
from urllib.parse import unquote_plus

TWO_METHODS = ("Authenticate the client one way only: HTTP Basic or client_id and client_secret in the body, "
               "not both (RFC 6749 section 2.3).")
ANOTHER_CLIENT = "The client_id in the body is not the client of the Authorization header."


def sends_basic(authorization: str | None) -> bool:
    """The ``Authorization`` header uses the Basic scheme (case-insensitive, RFC 7617), decodable or not."""
    return (authorization or "")[:6].lower() == "basic "


def basic_credentials(authorization: str | None) -> tuple[str, str] | None:
    """``(client_id, client_secret)`` of a Basic header, each form-urlencoded (RFC 6749 2.3.1); None when the
    header is absent, of another scheme or malformed."""
    if authorization is None or not sends_basic(authorization):
        return None
    try:
        decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    client_id, separator, secret = decoded.partition(":")
    if not separator:
        return None
    return unquote_plus(client_id), unquote_plus(secret)
