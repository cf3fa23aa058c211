"""Scope checks: each view says which scopes each method needs; one permission class enforces them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from rest_framework import exceptions, permissions
from rest_framework.request import Request

from portal.api.errors import InsufficientScope
from portal.callers import Caller

if TYPE_CHECKING:  # rest_framework.views imports this module (DEFAULT_PERMISSION_CLASSES)
    from rest_framework.views import APIView


def required_scopes(view: APIView, method: str) -> list[str]:
    """``view.required_scopes`` is a list (every method) or a dict by method (``{"GET": [...], "POST": [...]}``)."""
    declared = getattr(view, "required_scopes", None)
    if declared is None:
        raise exceptions.PermissionDenied("This view declares no scopes.")  # fail closed on a coding slip
    if isinstance(declared, dict):
        if method == "HEAD":
            method = "GET"
        by_method: dict[str, Iterable[str]] = declared
        return list(by_method.get(method, by_method.get("*", [])))
    return list(declared)


class HasRequiredScopes(permissions.BasePermission):
    """A valid credential whose scopes cover the view's ``required_scopes`` for this method.

    A credential without the scope gets ``INSUFFICIENT_SCOPE``; a person signed in to the dashboard, whose
    scopes come from their role, gets ``FORBIDDEN``.
    """

    def has_permission(self, request: Request, view: APIView) -> bool:
        caller = request.auth
        if not isinstance(caller, Caller):
            raise exceptions.NotAuthenticated()
        method = request.method
        if method == "OPTIONS":
            return True
        if method is None:  # never for a request Django's handler built; fail closed all the same
            raise exceptions.PermissionDenied("The request has no method.")
        required = required_scopes(view, method)
        lacking = caller.missing_scopes(required)
        if not lacking:
            # What the call used (section 19): the endpoint's scope, even when held through ``admin``. The usage
            # recorder gathers it with the request's counts.
            setattr(request._request, "portal_scopes_used", required)  # noqa: B010 (HttpRequest declares no such attribute)
            return True
        if caller.auth_type == "session":
            raise exceptions.PermissionDenied("Your role in this organization does not allow this.")
        raise InsufficientScope(lacking)
