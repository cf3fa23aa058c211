from __future__ import annotations

from rest_framework.pagination import CursorPagination


class NewestFirstPagination(CursorPagination):
    """``{"results": [...], "next": url|null, "previous": url|null}``; stable while rows are added."""

    page_size = 50
    max_page_size = 100
    page_size_query_param = "limit"
    ordering = ("-created_at", "-id")
