"""The two ways a leaked credential reaches the portal: GitHub's signed secret scanning reports, and anyone's
``POST /api/v1/credentials/revoke``. Neither takes a credential, so neither goes through the API's
authentication nor its per-credential limits (``PortalAPIView``): the report's signature is its authentication,
and the public endpoint has its own limit per client IP. Errors are still the API's envelope (DRF's exception
handler is the portal's)."""

from __future__ import annotations

import json
import logging
from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from leaks import scanning
from leaks.models import LeakReport
from leaks.services import Finding, credentials_report_leaked
from portal.api.base import StrictInputSerializer, show_once
from portal.api.errors import RateLimited, ServiceUnavailable
from portal.api.schema import error_responses
from portal.conf import portal_settings
from portal.net import client_ip
from portal.ratelimit import LimiterUnavailable, RateWindow, count

logger = logging.getLogger(__name__)

MAX_REPORT_TOKENS = 10_000  # GitHub sends up to 1,000; the 1 MiB body limit bounds it anyway
MAX_REVOKE_CREDENTIALS = 100

FINDING_FIELDS = ("token", "type", "url", "source")
REPORT_SCHEMA = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["token"],
        "properties": {name: {"type": "string"} for name in FINDING_FIELDS},
    },
}


class FeedbackOutput(serializers.Serializer):
    token_raw = serializers.CharField()
    token_type = serializers.CharField()
    # DRF's metaclass takes declared fields out of the class; the stubs still see Field.label (a str) here.
    label = serializers.ChoiceField(choices=["true_positive", "false_positive"])  # type: ignore[assignment]


class CredentialRevokeInput(StrictInputSerializer):
    credentials = serializers.ListField(
        child=serializers.CharField(max_length=255, trim_whitespace=False), max_length=MAX_REVOKE_CREDENTIALS,
        help_text=f"API keys or OAuth tokens, at most {MAX_REVOKE_CREDENTIALS}.",
    )


class RevokeAcceptedOutput(serializers.Serializer):
    message = serializers.CharField()


REVOKE_ACCEPTED = {"message": "Accepted. Every live credential among those sent has been revoked."}


def parse_report(body: bytes) -> list[Finding]:
    """The findings of a report's (already verified) body, or a 400. Fields GitHub may add are ignored."""
    try:
        document = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise exceptions.ValidationError({"body": ["Send a JSON list of {token, type, url, source}."]}) from None
    if not isinstance(document, list) or len(document) > MAX_REPORT_TOKENS:
        raise exceptions.ValidationError({"body": ["Send a JSON list of {token, type, url, source}."]})
    findings = []
    for position, item in enumerate(document):
        if not isinstance(item, dict) or not isinstance(item.get("token"), str) or any(
                not isinstance(item.get(name, ""), str) for name in FINDING_FIELDS):
            raise exceptions.ValidationError({str(position): ["Each item is {token, type, url, source}, strings."]})
        findings.append(Finding(token=item["token"], token_type=item.get("type", ""), url=item.get("url", ""),
                                source=item.get("source", "")))
    return findings


class GitHubSecretScanningView(APIView):
    """GitHub's secret scanning partner reports: every live key or OAuth token in the report is revoked before
    the answer, which labels each token `true_positive` (a live credential of this portal) or `false_positive`.

    Authenticated by the signature alone (`Github-Public-Key-Identifier`, `Github-Public-Key-Signature`: ECDSA
    P-256 with SHA-256 over the raw body, against GitHub's published keys); a missing or wrong signature is a 401
    and changes nothing, keys that cannot be fetched a 503."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    required_scopes: list[str] = []

    @extend_schema(summary="Receive a GitHub secret scanning report", request={"application/json": REPORT_SCHEMA},
                   # 403 only because the document's rule gives it to every operation with a body.
                   responses={200: FeedbackOutput(many=True), **error_responses(401, 403)})
    def post(self, request: Request) -> Response:
        body = request.body  # the raw bytes the signature covers, before anything parses them
        try:
            scanning.verify_report_signature(body, identifier=request.headers.get("Github-Public-Key-Identifier"),
                                             signature=request.headers.get("Github-Public-Key-Signature"))
        except scanning.KeysUnavailable:
            raise ServiceUnavailable("GitHub's public keys could not be fetched to check the signature.") from None
        except scanning.SignatureInvalid as refused:
            logger.warning("Secret scanning report refused: %s", refused)
            raise exceptions.AuthenticationFailed() from None
        findings = parse_report(body)
        live = credentials_report_leaked(findings=findings, via=LeakReport.Via.GITHUB)
        feedback = [{"token_raw": finding.token, "token_type": finding.token_type,
                     "label": "true_positive" if found else "false_positive"}
                    for finding, found in zip(findings, live, strict=True)]
        return show_once(Response(feedback))


class CredentialRevokeView(APIView):
    """Anyone who finds a leaked API key or OAuth token revokes it here, without a credential, as GitHub's credential
    revocation API works. The answer is the same whatever matched, so it tells nothing about what exists; at most
    `CREDENTIAL_REVOKE_RATE` (10 a minute) per client IP."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    required_scopes: list[str] = []

    @extend_schema(summary="Revoke leaked credentials", request=CredentialRevokeInput,
                   responses={202: RevokeAcceptedOutput, **error_responses(403)})
    def post(self, request: Request) -> Response:
        usage = self.count_request(request)
        if usage is not None and usage.exceeded:
            raise RateLimited(retry_after=usage.retry_after)
        serializer = CredentialRevokeInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        credentials_report_leaked(findings=[Finding(token=value) for value in serializer.validated_data["credentials"]],
                                  via=LeakReport.Via.PUBLIC)
        return Response(REVOKE_ACCEPTED, status=status.HTTP_202_ACCEPTED)

    def count_request(self, request: Request) -> RateWindow | None:
        """Every request counts, refused or not. A cache outage lets revocations through (fail open, logged): the
        endpoint tells nothing, so the limit guards the database, not a secret."""
        try:
            usage = count(request._request, group="leaks:revoke:ip", value=client_ip(request._request),
                          rate=portal_settings.CREDENTIAL_REVOKE_RATE)
        except LimiterUnavailable as error:
            logger.error("Credential revocation limit is failing open: the cache is unreachable (%s)",
                         type(error.__cause__).__name__)
            usage = None
        setattr(request._request, "leak_revoke_usage", usage)  # noqa: B010 (HttpRequest declares no such attribute)
        return usage

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)
        usage = getattr(request._request, "leak_revoke_usage", None)
        if usage is not None:
            for name, value in usage.headers().items():
                response[name] = value
        return response
