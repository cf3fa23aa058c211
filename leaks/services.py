"""Leaked credentials: find the live ones among reported tokens, revoke them before answering, record where
they were found, and tell their owners.

``credentials_report_leaked`` takes a whole report (GitHub's up to 1,000 tokens, or the public endpoint's 100):

- every token is parsed first, in Python: an API key whose format or checksum is wrong never reaches the
  database, and a value that looks like a key is never taken for an OAuth token;
- the keys are then read with one query per batch (``public_id IN (...)``) and compared by keyed hash in
  constant time; OAuth tokens by their SHA-256 checksum (how django-oauth-toolkit stores them), one query per
  batch for access tokens and one for refresh tokens;
- each live credential is revoked in its own transaction, with its ``LeakReport`` and audit event, through the
  revocation services of its app. A revoked, expired or unknown credential changes nothing.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from oauth2_provider.models import AccessToken, RefreshToken
from oauth2_provider.settings import oauth2_settings

from apikeys import crypto
from apikeys.api.serializers import ApiKeyOutput
from apikeys.models import ApiKey
from apikeys.services import api_key_revoke
from audit.services import audit_record
from leaks.models import LeakReport
from notifications.services import notify_api_key_leaked
from oauthapps.services.tokens import oauth_access_tokens_revoke, oauth_tokens_revoke
from portal import events
from portal.callers import Caller
from portal.conf import portal_settings
from portal.hashing import sha256

logger = logging.getLogger(__name__)

BATCH_SIZE = 500
MAX_TOKEN_LENGTH = 255
# What an OAuth token can be: printable, no spaces (DOT's tokens are 30 to 40 characters of [A-Za-z0-9]).
TOKEN_PATTERN = re.compile(r"^[\x21-\x7e]{16,255}$")


@dataclass(frozen=True)
class Finding:
    """One token as a report gives it, with where it was found (GitHub's ``url`` and ``source``)."""

    token: str
    token_type: str = ""
    url: str = ""
    source: str = ""


class LeakReporter:
    """Who revokes a leaked credential, as the audit log names the actor: the reporter, never a person."""

    audit_actor_type = "leak_report"
    audit_actor_user = None

    def __init__(self, via: str) -> None:
        self.via = via

    @property
    def audit_actor_id(self) -> str:
        return self.via

    def __str__(self) -> str:
        return LeakReport.Via(self.via).label


def credentials_report_leaked(*, findings: Sequence[Finding], via: str) -> list[bool]:
    """Revoke every live credential among ``findings``; for each finding, whether it was one (``true_positive``).

    Revocation has happened when this returns, so the answer to the reporter is sent after it.
    """
    now = timezone.now()
    prefix = portal_settings.KEY_PREFIX
    keys_by_public_id: dict[str, list[int]] = {}
    tokens_by_checksum: dict[str, list[int]] = {}
    for index, finding in enumerate(findings):
        token = finding.token
        if not token or len(token) > MAX_TOKEN_LENGTH:
            continue
        parsed = crypto.parse_key(token, prefix=prefix)
        if parsed is not None:
            keys_by_public_id.setdefault(parsed.public_id, []).append(index)
        elif not crypto.looks_like_key(token, prefix=prefix) and TOKEN_PATTERN.match(token):
            tokens_by_checksum.setdefault(sha256(token), []).append(index)
    live = [False] * len(findings)
    for key, indexes in _live_keys(findings, keys_by_public_id):
        if api_key_revoke_leaked(key=key, finding=findings[indexes[0]], via=via) is not None:
            for index in indexes:
                live[index] = True
    for token, indexes in _live_oauth_tokens(tokens_by_checksum, now):
        if oauth_token_revoke_leaked(token=token, finding=findings[indexes[0]], via=via) is not None:
            for index in indexes:
                live[index] = True
    return live


def _batches(values: Iterable[str]) -> Iterable[list[str]]:
    values = list(values)
    for start in range(0, len(values), BATCH_SIZE):
        yield values[start:start + BATCH_SIZE]


def _live_keys(findings: Sequence[Finding], by_public_id: dict[str, list[int]]) -> Iterable[
        tuple[ApiKey, list[int]]]:
    """Each live key among the reported ones, with the findings that hold exactly it (same hash)."""
    for batch in _batches(by_public_id):
        for key in ApiKey.objects.filter(public_id__in=batch).select_related("organization"):
            if not key.is_usable:
                continue
            matching = [index for index in by_public_id[key.public_id] if _is_key(findings[index].token, key)]
            if matching:
                yield key, matching


def _is_key(token: str, key: ApiKey) -> bool:
    """``token`` is exactly ``key``: the same hash, and a well-formed key of its environment."""
    if not crypto.hashes_match(crypto.hash_key(token), key.key_hash):
        return False
    parsed = crypto.parse_key(token, prefix=key.prefix)
    return parsed is not None and parsed.environment == key.environment


def _live_oauth_tokens(by_checksum: dict[str, list[int]], now: datetime) -> Iterable[tuple[AccessToken | RefreshToken,
                                                                                 list[int]]]:
    """Each live access or refresh token among the reported values (looked up by checksum, as DOT stores them)."""
    refresh_lifetime = oauth2_settings.REFRESH_TOKEN_EXPIRE_SECONDS
    for batch in _batches(by_checksum):
        for token in AccessToken.objects.filter(token_checksum__in=batch).select_related("application"):
            if token.expires > now and token.application is not None:
                yield token, by_checksum[token.token_checksum]
        refresh = RefreshToken.objects.filter(token_checksum__in=batch, revoked__isnull=True)
        for token in refresh.select_related("application"):
            expired = refresh_lifetime and token.created + timedelta(seconds=refresh_lifetime) <= now
            if not expired and token.application is not None:
                yield token, by_checksum[token.token_checksum]


@transaction.atomic
def api_key_revoke_leaked(*, key: ApiKey, finding: Finding, via: str) -> LeakReport | None:
    """Revoke a key found in public (audited as ``api_key.revoked`` with reason ``leaked``), record where, and
    announce it. None when the key is no longer live under the lock (revoked meanwhile, or expired)."""
    locked = ApiKey.objects.select_for_update().get(pk=key.pk)
    if not locked.is_usable:
        return None
    caller = Caller.system(key.organization, actor=LeakReporter(via))
    api_key_revoke(caller=caller, key=locked, reason="leaked")
    report = LeakReport.objects.create(
        organization_id=locked.organization_id, kind=LeakReport.Kind.API_KEY, api_key=locked,
        credential_label=locked.masked, via=via, **_where(finding),
    )
    announce_leak(report)
    return report


@transaction.atomic
def oauth_token_revoke_leaked(*, token: AccessToken | RefreshToken, finding: Finding, via: str) -> LeakReport | None:
    """Revoke an OAuth access token (with its refresh token) or a refresh token (with its access token) found in
    public, each audited by ``oauthapps``; record where and announce it. None when it was gone meanwhile."""
    client = token.application
    actor = LeakReporter(via)
    if isinstance(token, AccessToken):
        kind = LeakReport.Kind.ACCESS_TOKEN
        revoked, _refresh = oauth_access_tokens_revoke(caller=Caller.system(actor=actor),
                                                       tokens=AccessToken.objects.filter(pk=token.pk))
    else:
        kind = LeakReport.Kind.REFRESH_TOKEN
        revoked = oauth_tokens_revoke(caller=Caller.system(actor=actor), tokens=RefreshToken.objects.filter(pk=token.pk,
                                                                                      revoked__isnull=True))
    if not revoked:
        return None
    report = LeakReport.objects.create(
        organization_id=client.organization_id, kind=kind, oauth_client=client, credential_label=client.client_id,
        via=via, **_where(finding),
    )
    announce_leak(report)
    return report


def _where(finding: Finding) -> dict[str, str]:
    """The reporter's text as stored: cut to the columns, without NUL (which PostgreSQL text cannot hold)."""
    def clean(value: str, length: int) -> str:
        return value.replace("\x00", "")[:length]

    return {"url": clean(finding.url, 2000), "source": clean(finding.source, 100),
            "token_type": clean(finding.token_type, 100)}


def announce_leak(report: LeakReport) -> None:
    """Tell the owners of a leaked credential, inside the transaction that revoked it.

    The audit event (``api_key.leaked``, or ``oauth_token.leaked``) with where the credential was found; for a key
    also the ``api_key.leaked`` webhook (the key as the API shows it, with where it was found) and a mail to its
    maker and the organization's owners. None of them holds the token.
    """
    if report.kind == LeakReport.Kind.API_KEY:
        key = report.api_key
        assert key is not None  # a key's report is made with its key, and goes with it (CASCADE)
        audit_record(action="api_key.leaked", actor=LeakReporter(report.via), organization_id=report.organization_id,
                     target=key, metadata={"publicId": key.public_id, **report.where})
        shape = events.api_shape(ApiKeyOutput)
        events.publish(report.organization_id, "api_key.leaked", lambda: {**shape(key), "leak": report.where})
        notify_api_key_leaked(key=key, where=report.where)
    else:
        client = report.oauth_client
        assert client is not None  # a token's report is made with its client, and goes with it (CASCADE)
        audit_record(action="oauth_token.leaked", actor=LeakReporter(report.via),
                     organization_id=report.organization_id, target=client,
                     metadata={"clientId": client.client_id, "kind": report.kind, **report.where})
    logger.warning("A leaked %s of organization %s was revoked (reported via %s)", report.get_kind_display(),
                   report.organization_id, report.via)
