"""Keys pasted where they do not belong (a path, a query string, a header) never reach a log.

"No secret is ever logged" holds for keys a person pastes by mistake too: ``GET /api/v1/api-keys/dp_live_…`` answers
404, and without this the request log (readable by any ``usage:read`` key) and Django's ``Not Found: …`` line would
hold the whole key. Anything shaped like an API key (contract section 4: ``<prefix>_<live|test>_<body>``, the body
starting with the 12-character public id) is kept as its public id, masked as lists show it
(``dp_live_<public id>…``), with the secret and checksum cut out.

One function, :func:`scrub_keys`, used by the request-log writer and the audit context, and one logging filter,
:class:`NoKeysFilter`, installed in ``LOGGING`` on the console handler and on the loggers that print request lines
(``django.request``, ``django.server``), so that every record is scrubbed before any handler (or a test's
``caplog``) sees it.

The shape is matched whatever the prefix (a key of a site that changed ``PORTAL_KEY_PREFIX`` is still a secret) and
whatever the checksum (a key cut short or mistyped still holds most of its secret).
"""

from __future__ import annotations

import logging
import re

PUBLIC_ID_LENGTH = 12  # apikeys.crypto.PUBLIC_ID_LENGTH; portal imports no feature app

KEY_SHAPE = re.compile(
    rf"(?<![0-9A-Za-z])(?P<head>[a-z][a-z0-9]{{0,15}}_(?:live|test)_[0-9A-Za-z]{{{PUBLIC_ID_LENGTH}}})[0-9A-Za-z]+"
)
MASK = "…"


def scrub_keys(text: str) -> str:
    """``text`` with every key-shaped run cut to its public id (``dp_live_<id>…``). Cheap when there is none."""
    if "_live_" not in text and "_test_" not in text:
        return text
    return KEY_SHAPE.sub(lambda match: match["head"] + MASK, text)


class NoKeysFilter(logging.Filter):
    """Scrubs keys out of a log record's message (and its formatted arguments) in place; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a record that cannot be formatted is left to the handler to report
            return True
        scrubbed = scrub_keys(message)
        if scrubbed != message:
            record.msg, record.args = scrubbed, ()
        return True


SERVER_LOGGERS = ("gunicorn.access", "gunicorn.error")


def install_on_server_loggers() -> None:
    """The filter on gunicorn's loggers too (its access log names the path and query string). Added here rather
    than in ``LOGGING``: configuring a logger there would remove the handlers gunicorn gave it."""
    for name in SERVER_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(existing, NoKeysFilter) for existing in logger.filters):
            logger.addFilter(NoKeysFilter())
