"""Request-wide rules of people's accounts."""

from __future__ import annotations

import time
from collections.abc import Callable

from allauth.usersessions.models import UserSession
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.verification import EmailNotVerified

SESSION_SEEN_AT = "usersession_seen_at"
SEEN_EVERY_SECONDS = 60


def session_seen(request: HttpRequest) -> None:
    """Note in the session when its ``UserSession`` row (browser, IP, last seen) was last written."""
    request.session[SESSION_SEEN_AT] = int(time.time())


class SessionActivityMiddleware:
    """allauth.usersessions' activity tracking, at most one write a minute per session: its own middleware writes
    the row on every request, which would cost every dashboard page and session API call a write."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = getattr(request, "session", None)
        user = getattr(request, "user", None)
        if session is not None and session.session_key and user is not None and user.is_authenticated:
            seen_at = session.get(SESSION_SEEN_AT, 0)
            if not isinstance(seen_at, int) or time.time() - seen_at >= SEEN_EVERY_SECONDS:
                UserSession.objects.create_from_request(request)
                session_seen(request)
        return self.get_response(request)


class VerificationRequiredMiddleware:
    """A dashboard page refused for an unverified address explains why, with a button that mails the link again
    (the API answers 403 ``FORBIDDEN`` through its own error handler and never gets here)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, EmailNotVerified):
            return None
        context = {"what": exception.what, "next": request.get_full_path() if request.method == "GET" else ""}
        return render(request, "accounts/verification_required.html", context, status=403)
