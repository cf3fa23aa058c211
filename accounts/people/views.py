"""Pages of a person's account: signing in, the password, the address's verification, sessions and recovery
codes. Thin: services do the work."""

from __future__ import annotations

import logging
import time

from allauth.account import views as allauth_views
from allauth.mfa.recovery_codes import views as mfa_recovery_views
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from accounts.forms import (
    LoginForm,
)
from accounts.http import AuthenticatedHttpRequest
from accounts.people.services import user_other_sessions_end, user_session_ended, user_verification_resend
from accounts.selectors import (
    access_user_session_by_id,
    browser_label,
    user_sessions,
)
from accounts.two_factor import unused_recovery_codes
from audit.services import audit_guessing_refused
from portal.callers import Caller
from portal.ratelimit import SERVICE_RETRY_SECONDS, guard, record_failure

logger = logging.getLogger(__name__)


# --- Signing in -------------------------------------------------------------------------------------------


class LoginView(allauth_views.LoginView):
    """allauth's sign-in, behind the portal's guard against guessing (contract section 7): failures are limited
    per email and per client IP (``portal.ratelimit``), 429 with the message in the page, and 503 when the cache is
    down (fail closed), checked before allauth reads anything so that no attempt happens then."""

    def dispatch(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponseBase:
        if request.method == "POST":
            _accept_former_field_names(request, {"username": "login"})
            verdict = guard(request, kind="sign_in", identifier=request.POST.get("login", ""))
            audit_guessing_refused(verdict)
            if verdict.unavailable:
                return self._refuse("Sign-in is unavailable for a moment. Please try again shortly.", 503,
                                    SERVICE_RETRY_SECONDS)
            if verdict.wait is not None:
                return self._refuse(f"Too many failed sign-in attempts. Try again in {verdict.wait} seconds.", 429,
                                    verdict.wait)
        return super().dispatch(request, *args, **kwargs)

    def form_invalid(self, form: LoginForm) -> HttpResponse:
        record_failure(self.request, kind="sign_in", identifier=form.data.get("login", ""))
        return super().form_invalid(form)

    def _refuse(self, message: str, status: int, retry_after: int) -> HttpResponse:
        # An unbound form: binding would try the password, and that attempt must not happen.
        form = LoginForm(request=self.request, initial={"login": self.request.POST.get("login")})
        context = {"form": form, "refusal": message, "signup_url": reverse("signup")}
        response = render(self.request, "account/login.html", context, status=status)
        response["Retry-After"] = str(retry_after)
        return response


class PasswordChangeView(allauth_views.PasswordChangeView):
    """allauth's password change, also at its former address: this session stays signed in, every other one
    ends (``accounts.signals``)."""

    def dispatch(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponseBase:
        if request.method == "POST":
            _accept_former_field_names(
                request, {"old_password": "oldpassword", "new_password1": "password1", "new_password2": "password2"}
            )
        return super().dispatch(request, *args, **kwargs)


def _accept_former_field_names(request: HttpRequest, names: dict[str, str]) -> None:
    """The portal's forms before allauth named some fields differently; scripts that still post those names
    keep working."""
    if any(old in request.POST and new not in request.POST for old, new in names.items()):
        posted = request.POST.copy()
        for old, new in names.items():
            if old in posted and new not in posted:
                posted.setlist(new, posted.getlist(old)[-1:])  # its last value, as posted[old] reads it
        # django-stubs types POST as read-only; Django's request lets a view replace it (WSGIRequest's setter).
        request.POST = posted  # type: ignore[assignment]


@require_POST
@login_required
def verification_resend(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Mail the verification link again (at most one a few minutes, allauth's ``confirm_email`` limit)."""
    sent = user_verification_resend(request=request, user=request.user)
    if sent:
        messages.success(request, f"We sent a new verification link to {request.user.email}. It works for 3 days.")
    else:
        messages.info(request, "Your address is verified, or a link was sent a moment ago: check your inbox.")
    next_url = request.POST.get("next", "")
    if next_url and url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        return redirect(next_url)
    return redirect("dashboard")


# --- Sessions ------------------------------------------------------------------------------------------------


@login_required
def sessions_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """A person's sessions (browser, IP, last seen; allauth.usersessions) with a button to end each one, and one
    to end all others."""
    if request.method == "POST":
        ended = user_other_sessions_end(user=request.user, keep_session_key=request.session.session_key,
                                        caller=Caller.for_person(request.user))
        messages.success(request, f"Ended {ended} other session{'s' if ended != 1 else ''}.")
        return redirect("sessions")
    rows = [
        {"session": session, "browser": browser_label(session.user_agent), "current": session.is_current()}
        for session in sorted(user_sessions(request.user), key=lambda s: s.last_seen_at, reverse=True)
    ]
    return render(request, "usersessions/usersession_list.html", {"rows": rows})


@require_POST
@login_required
def session_end(request: AuthenticatedHttpRequest, session_id: int) -> HttpResponse:
    session = access_user_session_by_id(request.user, session_id)
    current = session.is_current()
    user_session_ended(caller=Caller.for_person(request.user), session=session)
    if current:
        return redirect("login")
    messages.success(request, f"The session of {browser_label(session.user_agent)} has ended.")
    return redirect("sessions")


# --- Recovery codes: shown once, downloadable as text while that page is fresh -------------------------------

RECOVERY_CODES_DOWNLOAD = "mfa_recovery_codes_download"
RECOVERY_CODES_DOWNLOAD_SECONDS = 600


class RecoveryCodesView(mfa_recovery_views.ViewRecoveryCodesView):
    """allauth shows the ten codes once (``MFA_RECOVERY_CODES_SHOW_ONCE``) and then offers no download; this page
    also lets the person download what it just showed, for a few minutes, from this session only."""

    def get_context_data(self, **kwargs: object) -> dict:
        context = super().get_context_data(**kwargs)
        if context["can_view_codes"]:
            self.request.session[RECOVERY_CODES_DOWNLOAD] = int(time.time()) + RECOVERY_CODES_DOWNLOAD_SECONDS
            context["can_download_codes"] = True
        return context


@login_required
def recovery_codes_download(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The codes the recovery-codes page has just shown, as a text file; a 404 once that page is stale."""
    until = request.session.get(RECOVERY_CODES_DOWNLOAD, 0)
    codes = unused_recovery_codes(request.user)
    if not isinstance(until, int) or until < time.time() or not codes:
        raise Http404("The recovery codes were shown once already. Generate new ones to download them.")
    response = HttpResponse("".join(f"{code}\n" for code in codes), content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="recovery-codes.txt"'
    response["Cache-Control"] = "no-store"
    return response
