"""Request-wide rules of people's accounts."""

from __future__ import annotations

import time
from collections.abc import Callable

from allauth.usersessions.models import UserSession
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse

from accounts.two_factor import TwoFactorRequired, has_second_factor, session_used_second_factor
from accounts.verification import EmailNotVerified
from portal.apichain import pages_only
from portal.conf import portal_settings

SESSION_SEEN_AT = "usersession_seen_at"
SEEN_EVERY_SECONDS = 60


def session_seen(request: HttpRequest) -> None:
    """Note in the session when its ``UserSession`` row (browser, IP, last seen) was last written."""
    request.session[SESSION_SEEN_AT] = int(time.time())


class SessionActivity:
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


class AccountGates:
    """The pages a person reaches when their account does not meet a rule yet, instead of a bare 403:

    - an unverified address: why, and a button that mails the link again (``accounts.verification``);
    - an organization that requires two-factor, or the admin for staff where ``PORTAL_ADMIN_REQUIRE_MFA`` is on:
      a page that leads to setting a second factor up (``accounts.two_factor``).

    The API answers 403 ``FORBIDDEN`` through its own error handler and never gets here.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs) -> HttpResponse | None:
        if not portal_settings.ADMIN_REQUIRE_MFA:
            return None
        try:
            admin_path = reverse("admin:index")
        except NoReverseMatch:  # a URL configuration without the admin (some tests)
            return None
        if not request.path.startswith(admin_path):
            return None
        if request.path == reverse("admin:login"):
            # The admin's own form knows only passwords: sign in through allauth, which asks for the second factor.
            return redirect_to_login(reverse("admin:index"), login_url=reverse("login"))
        user = request.user
        if user.is_authenticated and user.is_staff and not session_used_second_factor(request):
            return render(request, "accounts/two_factor_required.html",
                          {"for_admin": True, "has_factor": has_second_factor(user)}, status=403)
        return None

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, EmailNotVerified):
            context = {"what": exception.what, "next": request.get_full_path() if request.method == "GET" else ""}
            return render(request, "accounts/verification_required.html", context, status=403)
        if isinstance(exception, TwoFactorRequired):
            return render(request, "accounts/two_factor_required.html",
                          {"organization": exception.organization}, status=403)
        return None


# In settings.MIDDLEWARE: each steps aside for an API request that carries no session (portal.apichain).
SessionActivityMiddleware = pages_only(SessionActivity)
AccountGatesMiddleware = pages_only(AccountGates)
