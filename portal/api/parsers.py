"""The one parser of every API view: strict UTF-8 JSON, at most 32 levels deep, no NUL characters.

Python's ``json`` recurses once per nesting level, so a body of 10,000 ``[`` ends in ``RecursionError`` (a 500)
before any hook could see it. The depth is therefore counted first, by a scan that never recurses: string
literals are cut out (they may hold brackets), then the running depth of the remaining brackets is summed.

PostgreSQL refuses text holding NUL (``"\\u0000"`` in JSON), and a lone surrogate (``"\\ud800"``) cannot be
encoded for any database: both are refused here, before a view could put them into a query.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from itertools import accumulate
from typing import IO, Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser
from rest_framework.utils.json import strict_constant

MAX_DEPTH = 32

# A string literal, or what is left of an unclosed one. It matches at every '"', so a scan over any input is
# linear (a pattern that could fail there would be tried again at each following quote: quadratic).
_STRING = re.compile(r'"(?:[^"\\]++|\\.?)*+"?', re.DOTALL)
_NOT_BRACKET = bytes(set(range(256)) - set(b"[]{}"))
_STEP = [0] * 256
_STEP[ord("[")] = _STEP[ord("{")] = 1
_STEP[ord("]")] = _STEP[ord("}")] = -1
# Escapes that may decode to a NUL or a lone surrogate; only then is the parsed value walked.
_SUSPECT_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F])")


def nesting_exceeds(text: str, limit: int = MAX_DEPTH) -> bool:
    """Whether the JSON ``text`` nests arrays and objects deeper than ``limit``, counted without recursion.

    For invalid JSON the count may be off, but only past the point where ``json`` itself stops with an error.
    """
    if text.count("[") + text.count("{") <= limit:  # the common case, without cutting strings out
        return False
    brackets = _STRING.sub("", text).encode().translate(None, _NOT_BRACKET)
    # The running depth after each bracket, summed in C (a 1 MiB body of brackets: well under 100 ms).
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0) > limit


def _unstorable_text(data: Any) -> bool:
    """Whether any key or string value of ``data`` (already known to be shallow) holds a NUL or a lone surrogate."""
    pending = [data]
    while pending:
        value = pending.pop()
        if isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
        elif isinstance(value, str) and ("\x00" in value or not value.isascii() and not _encodable(value)):
            return True
    return False


def _encodable(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class PortalJSONParser(JSONParser):
    """``application/json`` in UTF-8 (RFC 8259 8.1: the ``charset`` parameter is ignored), refused with
    ``ParseError`` (400 ``VALIDATION_ERROR``) when it is not valid UTF-8, not JSON, nested deeper than
    ``MAX_DEPTH``, or holds text no database can store."""

    def parse(self, stream: IO[Any] | None, media_type: str | None = None,
              parser_context: Mapping[str, Any] | None = None) -> Any:
        raw = stream.read() if stream is not None else b""
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ParseError("The body is not valid UTF-8.") from None
        if nesting_exceeds(text):
            raise ParseError(f"The JSON body is nested deeper than {MAX_DEPTH} levels.")
        try:
            data = json.loads(text, parse_constant=strict_constant)
        except RecursionError:  # not reachable after the scan; kept so that no input can ever make a 500 here
            raise ParseError(f"The JSON body is nested deeper than {MAX_DEPTH} levels.") from None
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
        if _SUSPECT_ESCAPE.search(text) and _unstorable_text(data):
            raise ParseError("Text in the body may not contain NUL (\\u0000) characters or lone surrogates.")
        return data
