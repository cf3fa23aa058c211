"""Choosing the response's format: DRF's own rules, with their most common answer found without parsing.

Nearly every API call sends no ``Accept`` header, or ``*/*``, or ``application/json``; for each of them DRF's
``DefaultContentNegotiation`` parses the header and walks the renderers only to pick the first renderer, JSON. That
walk measured about a tenth of DRF's share of a request. Every other request (another ``Accept``, ``?format=``, a
format suffix) goes through DRF's rules unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request

JSON = "application/json"
# Accept headers for which DRF's rules pick the first renderer with its own media type, when that is JSON.
PLAIN_ACCEPTS = frozenset({None, "*/*", JSON})


class PortalContentNegotiation(DefaultContentNegotiation):
    def select_renderer(self, request: Request, renderers: Iterable[BaseRenderer],
                        format_suffix: str | None = None) -> Any:
        """``(renderer, media type)``, as DRF's (which receives the view's renderer instances, a list)."""
        first = renderers[0] if isinstance(renderers, list | tuple) and renderers else None
        if (first is not None and format_suffix is None and first.media_type == JSON
                and request.META.get("HTTP_ACCEPT") in PLAIN_ACCEPTS
                and self.settings.URL_FORMAT_OVERRIDE not in request.query_params):
            return first, JSON
        return super().select_renderer(request, renderers, format_suffix)
