"""Small helpers shared by the dashboard's views."""

from __future__ import annotations

from django.http import HttpRequest, QueryDict


def posted_data(request: HttpRequest) -> QueryDict | None:
    """The form data of a POST, even an empty one (``request.POST or None`` would leave that form unbound and
    show a blank form instead of its errors)."""
    return request.POST if request.method == "POST" else None
