"""The device authorization grant (RFC 8628), for command-line tools.

1. The tool posts its ``client_id`` (and secret, if confidential) to ``/oauth/device-authorization/`` and gets a
   ``device_code``, a ``user_code`` and ``verification_uri`` (``/device``).
2. The person opens ``/device``, signs in, types the code (case and dashes do not matter; the alphabet has no
   vowels nor look-alike characters), picks the organization and consents, with the rules and template of
   ``/oauth/authorize/``.
3. Meanwhile the tool polls ``/oauth/token/`` with ``grant_type=urn:ietf:params:oauth:grant-type:device_code``
   and gets ``authorization_pending``, ``slow_down`` (polling faster than ``interval``; the interval then grows
   by 5 seconds), ``access_denied`` or ``expired_token`` (codes live 10 minutes), then its tokens, once.

django-oauth-toolkit's ``DeviceGrant`` model holds the codes, the device code only as its SHA-256 (it is a
bearer secret until it is spent); ``DeviceAuthorization`` beside it holds the organization and the last poll.
oauthlib's ``DeviceCodeGrant`` asks ``validate_device_code`` (below) for the status on every poll.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import TypeVar

from django import forms
from django.contrib.auth.mixins import LoginRequiredMixin
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from django.views.generic import View
from oauth2_provider.models import DeviceGrant
from oauth2_provider.settings import oauth2_settings
from oauth2_provider.views.mixins import OAuthLibMixin
from oauthlib.common import urlencode
from oauthlib.oauth2.rfc6749.errors import OAuth2Error
from oauthlib.oauth2.rfc8628.endpoints.device_authorization import DeviceAuthorizationEndpoint

from audit.services import audit_guessing_refused, audit_record
from oauthapps.consent import chosen_membership, consent_context, scopes_granted_by, scopes_kept_by_person
from oauthapps.device_codes import (
    DEVICE_CODE_SECONDS,
    display_user_code,
    new_user_code,
    normalize_user_code,
    pending_device_grant,
)
from oauthapps.endpoints import client_credentials_from_request
from oauthapps.models import DEVICE_CODE_GRANT, DeviceAuthorization, OAuthClient
from portal.hashing import sha256
from portal.ratelimit import SERVICE_RETRY_SECONDS, guard, record_failure

logger = logging.getLogger(__name__)


# Device authorization endpoint ------------------------------------------------------------------------------


def verification_uri(request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("device"))


@method_decorator(csrf_exempt, name="dispatch")
class DeviceAuthorizationView(OAuthLibMixin, View):
    """``POST /oauth/device-authorization/`` (RFC 8628 section 3.1).

    oauthlib checks the request and the client (a confidential client authenticates as at the token endpoint);
    the portal checks that the client is allowed the device grant and stores the codes."""

    def post(self, request: HttpRequest) -> HttpResponse:
        client_id = client_credentials_from_request(request)[0]
        verdict = guard(request, kind="client_auth", identifier=client_id)
        audit_guessing_refused(verdict)
        if verdict.unavailable:
            return _oauth_error(503, "temporarily_unavailable", "Try again shortly.",
                                retry_after=SERVICE_RETRY_SECONDS)
        if verdict.wait is not None:
            return _oauth_error(429, "rate_limited", f"Too many failed attempts. Retry in {verdict.wait} s.",
                                retry_after=verdict.wait)
        core = self.get_oauthlib_core()
        endpoint = DeviceAuthorizationEndpoint(
            core.server.request_validator,
            verification_uri=verification_uri(request),
            expires_in=DEVICE_CODE_SECONDS,
            interval=oauth2_settings.DEVICE_FLOW_INTERVAL,
            verification_uri_complete=lambda code: f"{verification_uri(request)}?user_code={code}",
            user_code_generator=new_user_code,
        )
        body = list(core.extract_body(request))
        if client_id and not request.POST.get("client_id"):
            # HTTP Basic alone (RFC 8628 3.1: "as described in Section 3.2.1 of RFC 6749"): oauthlib's endpoint
            # reads the client_id from the body only, so the header's is handed to it; the validator still checks
            # the header's secret (and refuses Basic with a body secret, as at the token endpoint).
            body.append(("client_id", client_id))
        try:
            _headers, data, _status = endpoint.create_device_authorization_response(
                request.build_absolute_uri(), "POST", urlencode(body), core.extract_headers(request),
            )
        except OAuth2Error as error:  # oauthlib raises rather than answers for this endpoint
            if error.error == "invalid_client":
                record_failure(request, kind="client_auth", identifier=client_id)
            return _no_store(JsonResponse(json.loads(error.json), status=error.status_code, headers=error.headers))
        client = OAuthClient.objects.filter(client_id=client_id).first()
        if client is None or DEVICE_CODE_GRANT not in (client.grant_types or []):
            return _oauth_error(400, "unauthorized_client", "This client is not allowed the device grant.")
        scope = data.pop("scope", "")
        device_grant_create(client=client, device_code=data["device_code"], user_code=data["user_code"],
                            scope=scope, interval=data["interval"])
        return _no_store(JsonResponse(data))


@transaction.atomic
def device_grant_create(*, client: OAuthClient, device_code: str, user_code: str, scope: str,
                        interval: int) -> DeviceGrant:
    grant = DeviceGrant.objects.create(
        client_id=client.client_id, device_code=sha256(device_code), user_code=normalize_user_code(user_code),
        scope=scope, interval=interval, expires=timezone.now() + timedelta(seconds=DEVICE_CODE_SECONDS),
    )
    DeviceAuthorization.objects.create(device_grant=grant)
    return grant


def _oauth_error(status: int, error: str, description: str, retry_after: int | None = None) -> JsonResponse:
    response = JsonResponse({"error": error, "error_description": description}, status=status)
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return _no_store(response)


ResponseT = TypeVar("ResponseT", bound=HttpResponse)


def _no_store(response: ResponseT) -> ResponseT:
    response["Cache-Control"] = "no-store"
    return response


# The /device page -------------------------------------------------------------------------------------------


class UserCodeForm(forms.Form):
    user_code = forms.CharField(label="Code shown on your device", max_length=32,
                                widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters",
                                                              "spellcheck": "false", "autofocus": True}))


class DeviceConsentForm(forms.Form):
    """The consent step: the code travels along hidden, the organization is the radio of the template."""

    user_code = forms.CharField(max_length=32, widget=forms.HiddenInput())
    organization = forms.SlugField(required=False, widget=forms.HiddenInput())


@transaction.atomic
def device_grant_decide(*, grant: DeviceGrant, user, membership, allow: bool,
                        kept: list[str] | None = None) -> DeviceGrant:
    """The person's answer. Allowed: bound to ``membership``'s organization, with the scopes the person kept
    (``kept``; every requested one when None) cut to their role there (none left is a refusal, as on the
    authorize page). Audited either way."""
    client = OAuthClient.objects.select_related("organization").filter(client_id=grant.client_id).first()
    requested = grant.scope.split()
    if kept is not None:
        requested = [s for s in requested if s in set(kept)]
    granted = scopes_granted_by(membership.role, requested) if allow and membership else []
    locked = DeviceGrant.objects.select_for_update().get(pk=grant.pk)
    if locked.status != DeviceGrant.AUTHORIZATION_PENDING:
        return locked
    locked.user = user
    if granted:
        locked.status, locked.scope = DeviceGrant.AUTHORIZED, " ".join(granted)
        DeviceAuthorization.objects.filter(device_grant=locked).update(organization=membership.organization)
    else:
        locked.status = DeviceGrant.DENIED
    locked.save(update_fields=["user", "status", "scope"])
    if client is not None:
        audit_record(
            action="oauth_consent.granted" if granted else "oauth_consent.denied", actor=user,
            organization=membership.organization if granted else client.organization, target=client,
            metadata={"clientId": client.client_id, "scope": locked.scope if granted else "", "grant": "device"},
        )
    return locked


class DeviceView(LoginRequiredMixin, View):
    """``/device``: enter the code, then consent on the authorize page's template."""

    def get(self, request: HttpRequest) -> HttpResponse:
        typed = request.GET.get("user_code", "")
        if typed:
            grant = pending_device_grant(typed)
            if grant is not None:
                return self.consent_page(request, grant)
        form = UserCodeForm(initial={"user_code": typed})
        if typed:
            form = UserCodeForm(data={"user_code": typed})
            form.is_valid()
            form.add_error("user_code", "This code is not valid, has expired or was already used.")
        return self.code_page(request, form)

    def post(self, request: HttpRequest) -> HttpResponse:
        if "organization" in request.POST or "allow" in request.POST:
            return self.decide(request)
        form = UserCodeForm(request.POST)
        if not form.is_valid():
            return self.code_page(request, form)
        verdict = guard(request, kind="device_code", identifier=str(request.user.pk))
        audit_guessing_refused(verdict)
        if verdict.unavailable:
            form.add_error(None, "The portal cannot check codes right now. Try again in a moment.")
            return self.code_page(request, form, status=503)
        if verdict.wait is not None:
            form.add_error(None, f"Too many wrong codes. Try again in {verdict.wait} seconds.")
            return self.code_page(request, form, status=429)
        grant = pending_device_grant(form.cleaned_data["user_code"])
        if grant is None:
            record_failure(request, kind="device_code", identifier=str(request.user.pk))
            form.add_error("user_code", "This code is not valid, has expired or was already used.")
            return self.code_page(request, form)
        return self.consent_page(request, grant)

    def decide(self, request: HttpRequest) -> HttpResponse:
        form = DeviceConsentForm(request.POST)
        grant = pending_device_grant(form.data.get("user_code", "")) if form.is_valid() else None
        if grant is None:
            code_form = UserCodeForm()
            code_form.add_error(None, "This code is not valid any more. Start again on your device.")
            return self.code_page(request, code_form)
        allow = bool(request.POST.get("allow"))
        membership = chosen_membership(request.user, form.cleaned_data.get("organization") or "") if allow else None
        if allow and membership is None:
            form.add_error(None, "Choose one of your organizations.")
            return self.consent_page(request, grant, form=form)
        decided = device_grant_decide(grant=grant, user=request.user, membership=membership, allow=allow,
                                      kept=scopes_kept_by_person(request.POST, grant.scope.split()))
        return render(request, "oauthapps/device_done.html",
                      {"approved": decided.status == DeviceGrant.AUTHORIZED, "scopes": decided.scope.split()})

    def code_page(self, request: HttpRequest, form: UserCodeForm, status: int = 200) -> HttpResponse:
        return render(request, "oauthapps/device.html", {"form": form}, status=status)

    def consent_page(self, request: HttpRequest, grant: DeviceGrant, form: DeviceConsentForm | None = None
                     ) -> HttpResponse:
        client = OAuthClient.objects.select_related("organization").filter(client_id=grant.client_id).first()
        if client is None or not client.is_usable(None):
            code_form = UserCodeForm()
            code_form.add_error(None, "The application behind this code can no longer be authorized.")
            return self.code_page(request, code_form)
        form = form or DeviceConsentForm(initial={"user_code": grant.user_code})
        context = {"application": client, "form": form, "user_code": display_user_code(grant.user_code),
                   **consent_context(request.user, client, grant.scope.split())}
        return render(request, "oauthapps/consent.html", context)
