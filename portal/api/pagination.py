from __future__ import annotations

from typing import Any

from rest_framework.pagination import CursorPagination


class NewestFirstPagination(CursorPagination):
    """``{"results": [...], "next": url|null, "previous": url|null}``; stable while rows are added."""

    page_size = 50
    max_page_size = 100
    page_size_query_param = "limit"
    ordering = ("-created_at", "-id")

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        response_schema = super().get_paginated_response_schema(schema)
        for link in ("next", "previous"):  # DRF's examples name another site
            response_schema["properties"][link].pop("example", None)
            response_schema["properties"][link]["description"] = f"The {link} page, or null."
        return response_schema
