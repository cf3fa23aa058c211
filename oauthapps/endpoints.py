"""The OAuth 2.0 endpoints: django-oauth-toolkit's views with the portal's policy on top."""

from __future__ import annotations

import logging
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from csp.decorators import csp_update
from django import forms
from django.contrib.auth.hashers import check_password
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from django.views.generic import View
from oauth2_provider.exceptions import FatalClientError, OAuthToolkitError
from oauth2_provider.forms import AllowForm
from oauth2_provider.models import AccessToken, get_application_model
from oauth2_provider.settings import oauth2_settings
from oauth2_provider.views import AuthorizationView, RevokeTokenView, TokenView

from audit.services import audit_guessing_refused, audit_record
from oauthapps.client_auth import ANOTHER_CLIENT, TWO_METHODS, basic_credentials, sends_basic
from oauthapps.consent import chosen_membership, consent_context, scopes_granted_by, scopes_kept_by_person
from oauthapps.models import OAuthClient
from oauthapps.oidc import NOBODY_SIGNED_IN
from portal import scopes as scope_registry
from portal.hashing import sha256
from portal.middleware import NulInput
from portal.ratelimit import SERVICE_RETRY_SECONDS, guard, record_failure

logger = logging.getLogger(__name__)


class ConsentForm(AllowForm):
    organization = forms.SlugField(required=False, widget=forms.HiddenInput())


class ConsentView(AuthorizationView):
    """The consent page: who asks (client and its organization), for what (each scope in words), for which of
    the person's organizations. What is granted is cut to the person's role there."""

    template_name = "oauthapps/consent.html"
    form_class = ConsentForm

    def get(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        # Never skip the consent page on a previous approval: the organization must be chosen every time.
        if "approval_prompt" in request.GET:
            query = request.GET.copy()
            query.pop("approval_prompt")
            # django-stubs types GET as read-only; a view may replace it (WSGIRequest.GET is a cached property).
            request.GET = query  # type: ignore[assignment]
        return super().get(request, *args, **kwargs)

    def handle_no_permission(self) -> HttpResponse:
        """Nobody signed in: DOT sends ``prompt=none`` back to the client, and the validator must know there is no
        person to answer ``login_required`` rather than ``consent_required`` (``oidc.NOBODY_SIGNED_IN``)."""
        token = NOBODY_SIGNED_IN.set(True)
        try:
            return super().handle_no_permission()
        finally:
            NOBODY_SIGNED_IN.reset(token)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        application = context.get("application")
        if application is None or not self.request.user.is_authenticated:
            return context
        context.update(consent_context(self.request.user, application, context.get("scopes") or []))
        return context

    def error_response(self, error: OAuthToolkitError, application, **kwargs) -> HttpResponse:
        """Every error but a bad ``client_id`` or ``redirect_uri`` goes back to the client (RFC 6749 4.1.2.1).

        DOT's ``get`` passes no application for the errors oauthlib finds while validating the request, and
        then redirects only to the global ``ALLOWED_REDIRECT_URI_SCHEMES`` (``https``), so a loopback ``http``
        client got an error page. oauthlib raises those errors only after it has checked the client and the
        redirect URI, but the client is looked up again here and the URI checked against its registered ones,
        so the redirect goes through the client's own ``get_allowed_schemes`` and nowhere it did not register.
        """
        oauthlib_error = error.oauthlib_error
        if not oauthlib_error.description:  # RFC 6749 4.1.2.1: tell the client's developer what went wrong
            oauthlib_error.description = ERROR_DESCRIPTIONS.get(oauthlib_error.error, "")
        if application is None and not isinstance(error, FatalClientError):
            application = registered_client_for(oauthlib_error)
        response = super().error_response(error, application, **kwargs)
        if response.status_code == 302 and oauth2_settings.COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS:
            # RFC 9207: error responses name the issuer too (DOT adds it to the success response only).
            response["Location"] = with_query_parameter(
                response["Location"], "iss", oauth2_settings.oauth2_authorization_server_issuer(self.request))
        return response

    def render_to_response(self, context, **response_kwargs) -> HttpResponse:
        """The consent page's form posts here, and the browser follows the redirect to the client's redirect URI:
        the Content-Security-Policy's ``form-action`` applies to that redirect too, so it names them."""
        response = super().render_to_response(context, **response_kwargs)
        application = context.get("application")
        if application is not None and not context.get("error"):
            sources = redirect_uri_sources(application.redirect_uris.split())
            # django-csp's public way to change one response's policy is its view decorator.
            rendered = response
            response = csp_update({"form-action": sources})(lambda _request: rendered)(self.request)
        return response

    def form_valid(self, form):
        self.portal_membership = None
        if form.cleaned_data.get("allow"):
            self.portal_membership = chosen_membership(self.request.user, form.cleaned_data.get("organization"))
            if self.portal_membership is None:
                form.add_error(None, "Choose one of your organizations.")
                return self.form_invalid(form)
        return super().form_valid(form)

    def form_invalid(self, form):
        # FormView re-renders with the form alone; the page also needs the client and the scopes it asks for
        # (oauthlib validates the request again when the form is sent back).
        client = OAuthClient.objects.select_related("organization").filter(
            client_id=form.data.get("client_id", "")[:100]).first()
        scopes = [s for s in str(form.data.get("scope", "")).split() if s in scope_registry.registry()]
        return self.render_to_response(self.get_context_data(form=form, application=client, scopes=scopes))

    def create_authorization_response(self, request, scopes, credentials, allow):
        membership = getattr(self, "portal_membership", None)
        if allow and membership is not None:
            # What the person kept ticked, then cut to their role; the token holds that and says so (RFC 6749 3.3).
            kept = scopes_kept_by_person(request.POST, scopes.split())
            granted = scopes_granted_by(membership.role, kept)
            allow = bool(granted)  # nothing left to grant: refuse rather than fall back to defaults
            scopes = " ".join(granted)
            credentials = {**credentials, "portal_organization_id": membership.organization_id}
        elif allow:
            allow = False
        uri, headers, body, status = super().create_authorization_response(request, scopes, credentials, allow)
        client = OAuthClient.objects.filter(client_id=credentials.get("client_id")).first()
        if allow and client is not None:
            audit_record(action="oauth_consent.granted", actor=request.user, organization=membership.organization,
                         target=client, metadata={"clientId": client.client_id, "scope": scopes})
        return uri, headers, body, status


# For the errors oauthlib raises without a description (ASCII without quotes or backslashes, RFC 6749 4.1.2.1).
ERROR_DESCRIPTIONS = {
    "access_denied": "The person declined the request.",
    "invalid_scope": "A requested scope is unknown or beyond the scopes the client is allowed.",
    "unsupported_response_type": "Only response_type code is supported.",
    "unauthorized_client": "This client is not allowed the authorization_code grant.",
}


def registered_client_for(oauthlib_error) -> OAuthClient | None:
    """The client an authorization error names, if the redirect URI it would go back to is registered for it."""
    client_id, redirect_uri = oauthlib_error.client_id, oauthlib_error.redirect_uri
    if not client_id or not redirect_uri:
        return None
    client = get_application_model().objects.filter(client_id=client_id).first()
    if client is None or not client.redirect_uri_allowed(redirect_uri):
        return None
    return client


def redirect_uri_sources(redirect_uris: list[str]) -> list[str]:
    """CSP sources for the redirect URIs: their origins (after a redirect browsers match the origin, not the
    path), with any port for ``http`` on a loopback IP, which DOT accepts on any port (RFC 8252 7.3)."""
    sources = []
    for uri in redirect_uris:
        parts = urlsplit(uri)
        if not parts.scheme or not parts.hostname:
            continue
        if parts.scheme == "http" and parts.hostname in ("127.0.0.1", "::1"):
            host = "[::1]" if parts.hostname == "::1" else parts.hostname
            sources.append(f"http://{host}:*")
        else:
            sources.append(f"{parts.scheme}://{parts.netloc}")
    return list(dict.fromkeys(sources))


def with_query_parameter(uri: str, name: str, value: str) -> str:
    """``uri`` with ``name=value`` in its query, replacing any earlier ``name``."""
    parts = urlsplit(uri)
    query = [(key, item) for key, item in parse_qsl(parts.query, keep_blank_values=True) if key != name]
    return urlunsplit(parts._replace(query=urlencode([*query, (name, value)])))


# Where a NUL means the client's credentials are unusable (RFC 6749 2.3.1: Basic, or the body or query).
CLIENT_CREDENTIAL_INPUTS = {("header", "Authorization"), *((part, name) for part in ("form", "query")
                                                            for name in ("client_id", "client_secret"))}


class RefusesNulAsOAuthError:
    """For ``portal.middleware.NulInputMiddleware``: a NUL sent to the token, revocation or introspection endpoint
    is an RFC 6749 5.2 error in JSON, ``invalid_client`` (401) in the client's credentials, else ``invalid_request``."""

    @staticmethod
    def refuse_nul_input(request: HttpRequest, found: NulInput) -> JsonResponse:
        if (found.part, found.name) in CLIENT_CREDENTIAL_INPUTS:
            response = oauth_error(401, "invalid_client", found.describe())
            response["WWW-Authenticate"] = 'Basic realm="oauth"'
        else:
            response = oauth_error(400, "invalid_request", found.describe())
        response["Cache-Control"] = "no-store"
        return response


class PortalTokenView(RefusesNulAsOAuthError, TokenView):
    """``/oauth/token/``. Responses carry ``Cache-Control: no-store`` (oauthlib sets it; kept explicit).

    DOT's ``TokenView.post`` answers the device-code grant itself, before the server sees it (and fails with
    a 500 when ``device_code`` is missing, and stores the device code in clear); every request goes to the
    portal's server instead, whose device grant checks the hashed code (``oauthapps.device_codes``)."""

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        client_id = client_credentials_from_request(request)[0]
        verdict = guard(request, kind="client_auth", identifier=client_id)
        audit_guessing_refused(verdict)
        if verdict.unavailable:
            return self._no_store(oauth_error(503, "temporarily_unavailable",
                                              "Try again shortly.", retry_after=SERVICE_RETRY_SECONDS))
        if verdict.wait is not None:
            return self._no_store(oauth_error(429, "rate_limited",
                                              f"Too many failed attempts. Retry in {verdict.wait} s.",
                                              retry_after=verdict.wait))
        response = self.authorization_flow_token_response(request)
        if response.status_code == 401:  # invalid_client: an unknown client id or a wrong secret
            record_failure(request, kind="client_auth", identifier=client_id)
        return self._no_store(response)

    @staticmethod
    def _no_store(response: HttpResponse) -> HttpResponse:
        response["Cache-Control"] = "no-store"
        response["Pragma"] = "no-cache"
        return response


def oauth_error(status: int, error: str, description: str, *, retry_after: int | None = None) -> JsonResponse:
    response = JsonResponse({"error": error, "error_description": description}, status=status)
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response


class PortalRevokeTokenView(RefusesNulAsOAuthError, RevokeTokenView):
    """``/oauth/revoke/`` (RFC 7009)."""


def client_credentials_from_request(request: HttpRequest) -> tuple[str, str]:
    """``(client_id, client_secret)`` from HTTP Basic (RFC 6749 2.3.1) or the form body; blanks when absent."""
    authorization = request.META.get("HTTP_AUTHORIZATION", "")
    if sends_basic(authorization):
        return basic_credentials(authorization) or ("", "")
    return request.POST.get("client_id", ""), request.POST.get("client_secret", "")


def two_client_authentications(request: HttpRequest) -> JsonResponse | None:
    """400 ``invalid_request`` for HTTP Basic together with a body secret, or a body ``client_id`` naming another
    client than the header, as the token endpoint answers (``PortalOAuth2Validator.authenticate_client``)."""
    authorization = request.META.get("HTTP_AUTHORIZATION", "")
    if not sends_basic(authorization):
        return None
    basic = basic_credentials(authorization)
    if request.POST.get("client_secret"):
        return oauth_error(400, "invalid_request", TWO_METHODS)
    body_client_id = request.POST.get("client_id")
    if body_client_id and basic is not None and body_client_id != basic[0]:
        return oauth_error(400, "invalid_request", ANOTHER_CLIENT)
    return None


def authenticate_client_from_request(request: HttpRequest) -> OAuthClient | None:
    """A confidential client from HTTP Basic or the form body, checked against its hashed secret."""
    client_id, secret = client_credentials_from_request(request)
    if not client_id or not secret or len(client_id) > 100:
        return None
    client = OAuthClient.objects.select_related("organization").filter(client_id=client_id).first()
    if client is None or not client.client_secret or not check_password(secret, client.client_secret):
        return None
    if not client.is_usable(None):
        return None
    return client


@method_decorator(csrf_exempt, name="dispatch")
class IntrospectView(RefusesNulAsOAuthError, View):
    """``/oauth/introspect/`` (RFC 7662). The caller authenticates as a client of the token's organization."""

    def post(self, request: HttpRequest) -> JsonResponse:
        refused = two_client_authentications(request)
        if refused is not None:
            return refused
        client = authenticate_client_from_request(request)
        if client is None:
            response = JsonResponse({"error": "invalid_client"}, status=401)
            response["WWW-Authenticate"] = 'Basic realm="oauth"'
            return response
        token_value = request.POST.get("token", "")
        if not token_value:
            return JsonResponse({"error": "invalid_request", "error_description": "token is required"}, status=400)
        token = (
            AccessToken.objects.select_related("application", "user", "binding")
            .filter(token_checksum=sha256(token_value))
            .first()
        )
        if token is None or not token.is_valid():
            return self._no_store(JsonResponse({"active": False}))
        binding = getattr(token, "binding", None)
        if binding is None or binding.organization_id != client.organization_id:
            response = JsonResponse({"error": "invalid_client",
                                     "error_description": "Authenticate as a client of the token's organization."},
                                    status=401)
            response["WWW-Authenticate"] = 'Basic realm="oauth"'
            return response
        data = {
            "active": True,
            "scope": token.scope,
            "client_id": token.application.client_id,
            "token_type": "Bearer",
            "exp": int(token.expires.timestamp()),
            "iat": int(token.created.timestamp()),
            "org": binding.organization_id,
        }
        if token.user is not None:
            data["username"] = token.user.email
            data["sub"] = str(token.user.pk)
        return self._no_store(JsonResponse(data))

    @staticmethod
    def _no_store(response: JsonResponse) -> JsonResponse:
        response["Cache-Control"] = "no-store"
        return response
