"""The middleware an API request does not need, and a Content-Security-Policy built once.

``settings.MIDDLEWARE`` is one chain for pages and the API. Most of it serves pages: the session, signing in,
messages, session activity, the account gates, allauth's request context, CSRF. An API request that carries no
session needs none of them: a key or token request authenticates in DRF (``REST_FRAMEWORK``), and a request with
no session cookie at all has no session to read. The classes below (and ``accounts.middleware``'s, made with
``pages_only``, since the core imports no app) stand in for those middleware in
``settings.MIDDLEWARE`` and step aside for such a request (``session_free_api_request``): their ``__call__`` hands the
request straight on, and their view and exception hooks do nothing.

Every other request goes through each of them unchanged: every page, and every API request that carries the
dashboard's session cookie and no ``X-API-Key`` or ``Authorization`` header, which is how the browsable API and
scripts run from a browser call it (contract section 5: the session with its CSRF check, ``X-Organization``,
two-factor). A request with a credential header never reaches the session class (``REST_FRAMEWORK`` tries keys and
tokens first, and a header that is neither is refused), so skipping the session for it changes no answer.

Two stay, named as they are in the settings, because a check looks for the name: allauth refuses to start without
its ``AccountMiddleware``, and ``check --deploy`` warns without ``CsrfViewMiddleware``. Each costs an API request a
few µs (DRF's views are CSRF-exempt; only ``SessionAuthentication`` checks the token, for a session).

What stays on every API request: the request id and the usage observers, security headers, the CSP, host
validation and Content-Length (``CommonMiddleware``), NUL refusal, X-Frame-Options, the audit context and the API's
error format.

Figures (``bench/api_bench.py --costs``: in-process, SQLite, both chains in interleaved rounds; the README's
Benchmarks has the table): the short chain saves an open request 16% and a key request 18%. Of what it saves, the
messages, the account gates' URL ``reverse`` and the session were most; django-csp's policy, built twice per response
by django-csp, dropped from 121-137 µs to 20-46 µs on every response, page or API.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject
from csp.middleware import CSPMiddleware as DjangoCSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.contrib.auth import middleware as auth
from django.contrib.messages import middleware as messages
from django.contrib.sessions import middleware as sessions
from django.core.signals import setting_changed
from django.http import HttpRequest
from django.http.response import HttpResponseBase

from portal.api.middleware import API_PREFIX

HOOKS = ("process_view", "process_exception", "process_template_response")
SESSION_FREE_ATTRIBUTE = "_portal_session_free"  # set on the request by session_free_api_request
# Forward authentication (``/gateway/auth``, section 18): a gateway authenticates as a resource server in a header of
# its own and never by a session; the cookies it forwards are its client's, which no answer there may depend on.
GATEWAY_PREFIX = "/gateway/"


def session_free_api_request(request: HttpRequest) -> bool:
    """True for an ``/api/`` request that carries a credential header (``X-API-Key``, ``Authorization``) or no session
    cookie, and for every ``/gateway/`` request: the page middleware below leave it alone. Worked out once per
    request."""
    known: bool | None = getattr(request, SESSION_FREE_ATTRIBUTE, None)
    if known is not None:
        return known
    meta = request.META
    path = request.path_info
    free = path.startswith(GATEWAY_PREFIX) or (path.startswith(API_PREFIX) and (
        bool(meta.get("HTTP_X_API_KEY", "").strip() or meta.get("HTTP_AUTHORIZATION", "").strip())
        or "HTTP_COOKIE" not in meta
        or settings.SESSION_COOKIE_NAME not in request.COOKIES
    ))
    setattr(request, SESSION_FREE_ATTRIBUTE, free)
    return free


def pages_only(middleware: type) -> type:
    """A subclass of ``middleware`` (Django's checks look for the class or a subclass) that runs it for every request
    except a session-free API one."""

    class PagesOnly(middleware):
        def __call__(self, request: HttpRequest) -> HttpResponseBase:
            response: HttpResponseBase
            if session_free_api_request(request):
                response = self.get_response(request)
            else:
                response = super().__call__(request)
            return response

    def gated(hook: str) -> Callable[..., HttpResponseBase | None]:
        def method(self: Any, request: HttpRequest, *args: Any) -> HttpResponseBase | None:
            if session_free_api_request(request):
                return None
            response: HttpResponseBase | None = getattr(super(PagesOnly, self), hook)(request, *args)
            return response

        method.__name__ = hook
        return method

    for hook in HOOKS:
        if hasattr(middleware, hook):
            setattr(PagesOnly, hook, gated(hook))
    PagesOnly.__name__ = PagesOnly.__qualname__ = middleware.__name__
    PagesOnly.__doc__ = (f"``{middleware.__module__}.{middleware.__name__}``, except for an API request without a "
                         "session (``session_free_api_request``).")
    return PagesOnly


SessionMiddleware = pages_only(sessions.SessionMiddleware)
AuthenticationMiddleware = pages_only(auth.AuthenticationMiddleware)
MessageMiddleware = pages_only(messages.MessageMiddleware)


# The Content-Security-Policy -----------------------------------------------------------------------------------

CSP_NONCE_ATTRIBUTE = "csp_nonce"
_policies: dict[bool, str] = {}  # report_only -> the policy of the settings alone, built once


def _settings_policy(report_only: bool) -> str:
    policy = _policies.get(report_only)
    if policy is None:
        policy = _policies[report_only] = build_policy(report_only=report_only)
    return policy


def _forget_policies(*, setting: str, **kwargs: Any) -> None:
    if setting.startswith("CONTENT_SECURITY_POLICY"):
        _policies.clear()


setting_changed.connect(_forget_policies)


class CSPMiddleware(DjangoCSPMiddleware):
    """django-csp's middleware, with the policy of the settings built once per process: django-csp builds it (and the
    report-only one) from the settings on every response. A response or request that changes its policy (a view's
    ``csp_update``/``csp_replace``, the consent page's ``form-action``, a nonce) still gets its own, built as
    django-csp builds it. The rules of which header is set when are django-csp's, unchanged."""

    def process_request(self, request: HttpRequest) -> None:
        if session_free_api_request(request):
            return  # no page is rendered for it (its JSON, or DRF's browsable API, uses no nonce)
        super().process_request(request)

    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        if response.status_code in (500, 404) and settings.DEBUG:
            return response
        api = session_free_api_request(request)
        for report_only, header, setting, exempt in (
            (False, HEADER, "CONTENT_SECURITY_POLICY", "_csp_exempt"),
            (True, HEADER_REPORT_ONLY, "CONTENT_SECURITY_POLICY_REPORT_ONLY", "_csp_exempt_ro"),
        ):
            parts = self.get_policy_parts(request=request, response=response, report_only=report_only)
            if parts.config is None and parts.update is None and parts.replace is None and parts.nonce is None:
                policy = _settings_policy(report_only)
            else:
                policy = build_policy(**asdict(parts), report_only=report_only)
            if not policy or header in response or getattr(response, exempt, False) is not False:
                continue
            prefixes = (getattr(settings, setting, None) or {}).get("EXCLUDE_URL_PREFIXES", None) or ()
            if not request.path_info.startswith(tuple(prefixes)):
                response[header] = policy
        if not api and getattr(request, "_csp_nonce", None) is None:
            # django-csp's attribute, set as django-csp sets it (HttpRequest's stubs do not declare it)
            setattr(request, CSP_NONCE_ATTRIBUTE, CheckableLazyObject(self._csp_nonce_post_response))
        return response
