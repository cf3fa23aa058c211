"""django-oauth-toolkit's validator, extended with the portal's policy:

- every token and code is bound to an organization (``TokenOrganization``);
- a replayed authorization code revokes the tokens it issued;
- a client of a suspended organization, or a revoked client, cannot authenticate;
- every token issued is an audit event;
- a client authenticates one way only, and errors carry RFC 6749's codes (section 5.2);
- OpenID Connect claims (``oauthapps.oidc``) and device codes (``oauthapps.device_codes``) through DOT's hooks.
"""

from __future__ import annotations

import logging

from django.db import connections, router
from oauth2_provider.models import AccessToken, RefreshToken
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauthlib.oauth2.rfc6749 import errors

from audit.services import audit_record
from oauthapps.client_auth import ANOTHER_CLIENT, TWO_METHODS, basic_credentials, sends_basic
from oauthapps.device_codes import DeviceCodeValidatorMixin
from oauthapps.models import OAuthClient, SpentAuthorizationCode, TokenOrganization
from oauthapps.oidc import OpenIDClaimsMixin
from portal.hashing import sha256

logger = logging.getLogger(__name__)


# Grants whose token is committed without waiting for PostgreSQL to flush its write-ahead log to disk
# (``synchronous_commit = off`` for that one transaction). That wait was most of a client-credentials token request
# on PostgreSQL (a COMMIT of about 6 ms against about 1 ms for all its queries, bench/api_bench.py --queries
# --postgres), and why the endpoint answered half as fast as on SQLite, whose WAL mode with synchronous=NORMAL does not
# wait either. What it risks is what SQLite's setting risks: a crash of the database server within a fraction of a
# second after the commit may lose the transaction whole (never a part of it): the new access token and its audit
# event, together. The client then holds a token that fails as an unknown one and asks for another. Grants that
# rotate or spend something (refresh tokens, codes, device codes) keep the full wait: losing a rotation would bring
# a spent refresh token back.
ASYNC_COMMIT_GRANTS = frozenset({"client_credentials"})


class PortalOAuth2Validator(OpenIDClaimsMixin, DeviceCodeValidatorMixin, OAuth2Validator):
    # Client authentication -------------------------------------------------------------------------

    def _load_application(self, client_id, request):
        """The client with its organization in one query: DOT loads the client, then ``is_usable`` (which reads
        ``organization.suspended_at``) loaded the organization in a second one, on every token request. DOT's
        own checks of a client found this way (the id, ``is_usable``) still run."""
        if not request.client and client_id:
            try:
                request.client = OAuthClient.objects.select_related("organization").filter(
                    client_id=client_id).first()
            except ValueError:  # a client id PostgreSQL cannot hold (a NUL): DOT answers it as unknown
                request.client = None
        return super()._load_application(client_id, request)

    def authenticate_client(self, request, *args, **kwargs) -> bool:
        """RFC 6749 2.3: "The client MUST NOT use more than one authentication method in each request."

        DOT tries HTTP Basic, then the body, so Basic plus a body secret was accepted, and oauthlib answered
        ``server_error`` when the body's ``client_id`` named another client than the header. Both are
        ``invalid_request`` (400), decided before any secret is checked, so they tell nothing about one (and
        are not failed attempts). A body ``client_id`` equal to the header's is allowed: libraries send it.
        """
        authorization = request.headers.get("Authorization")
        if sends_basic(authorization):
            if request.client_secret:
                raise errors.InvalidRequestError(description=TWO_METHODS, request=request)
            basic = basic_credentials(authorization)
            if request.client_id and basic is not None and request.client_id != basic[0]:
                raise errors.InvalidRequestError(description=ANOTHER_CLIENT, request=request)
        return super().authenticate_client(request, *args, **kwargs)

    def confirm_redirect_uri(self, client_id, code, redirect_uri, client, request, *args, **kwargs) -> bool:
        """A code redeemed with another redirect URI than it was issued for is ``invalid_grant`` (RFC 6749 5.2:
        the grant "does not match the redirection URI used in the authorization request"); oauthlib's own
        error for it is ``invalid_request``."""
        if not super().confirm_redirect_uri(client_id, code, redirect_uri, client, request, *args, **kwargs):
            raise errors.InvalidGrantError(description="Mismatching redirect URI.", request=request)
        return True

    # Authorization codes -----------------------------------------------------------------------------

    def save_authorization_code(self, client_id, code, request, *args, **kwargs) -> None:
        grant = self._create_authorization_code(request, code)
        organization_id = getattr(request, "portal_organization_id", None) or request.client.organization_id
        TokenOrganization.objects.create(grant=grant, organization_id=organization_id)

    def validate_code(self, client_id, code, client, request, *args, **kwargs) -> bool:
        if not super().validate_code(client_id, code, client, request, *args, **kwargs):
            self._revoke_if_replayed(code, client)
            return False
        binding = TokenOrganization.objects.filter(grant__code=code, grant__application=client).first()
        request.portal_organization_id = binding.organization_id if binding else client.organization_id
        return True

    def invalidate_authorization_code(self, client_id, code, request, *args, **kwargs) -> None:
        super().invalidate_authorization_code(client_id, code, request, *args, **kwargs)
        issued = getattr(request, "portal_access_token", None)
        refresh = getattr(request, "portal_refresh_token", None)
        SpentAuthorizationCode.objects.create(
            code_hash=sha256(code),
            application=request.client,
            token_family=refresh.token_family if refresh else None,
            access_token_checksum=issued.token_checksum if issued else "",
        )

    def _revoke_if_replayed(self, code: str, client) -> None:
        """RFC 6749 section 4.1.2: a code used twice revokes every token issued from it."""
        spent = SpentAuthorizationCode.objects.filter(code_hash=sha256(code), application=client).first()
        if spent is None:
            return
        revoked = 0
        if spent.token_family:
            revoked += RefreshToken.objects.filter(token_family=spent.token_family, revoked__isnull=True).count()
            RefreshToken.revoke_family(spent.token_family)
        if spent.access_token_checksum:
            revoked += AccessToken.objects.filter(token_checksum=spent.access_token_checksum).delete()[0]
        logger.warning("Authorization code replayed for client %s; revoked what it issued", client.client_id)
        audit_record(action="oauth_code.replayed", actor=client, organization=client.organization, target=client,
                     metadata={"clientId": client.client_id, "revoked": revoked})

    # Grants ------------------------------------------------------------------------------------------

    def validate_grant_type(self, client_id, grant_type, client, request, *args, **kwargs) -> bool:
        """A client may use exactly the grants it was registered with (several, unlike plain DOT)."""
        return grant_type in (client.grant_types or [])

    # Tokens ------------------------------------------------------------------------------------------

    def validate_refresh_token(self, refresh_token, client, request, *args, **kwargs) -> bool:
        if not super().validate_refresh_token(refresh_token, client, request, *args, **kwargs):
            return False
        previous = request.refresh_token_instance.access_token
        binding = TokenOrganization.objects.filter(access_token=previous).first() if previous else None
        request.portal_organization_id = binding.organization_id if binding else client.organization_id
        return True

    def _token_organization_id(self, request) -> int:
        if request.grant_type == "client_credentials":
            return request.client.organization_id
        return getattr(request, "portal_organization_id", None) or request.client.organization_id

    def _create_access_token(self, expires, request, token, source_refresh_token=None) -> AccessToken:
        access_token = super()._create_access_token(expires, request, token, source_refresh_token)
        TokenOrganization.objects.create(access_token=access_token,
                                         organization_id=self._token_organization_id(request))
        request.portal_access_token = access_token
        return access_token

    def _create_refresh_token(self, request, refresh_token_code, access_token, previous_refresh_token):
        refresh_token = super()._create_refresh_token(request, refresh_token_code, access_token,
                                                      previous_refresh_token)
        request.portal_refresh_token = refresh_token
        return refresh_token

    def _save_bearer_token(self, token, request, *args, **kwargs) -> None:
        client = request.client
        if request.grant_type in ASYNC_COMMIT_GRANTS:
            connection = connections[router.db_for_write(AccessToken)]
            if connection.vendor == "postgresql" and connection.in_atomic_block:  # DOT's save_bearer_token's
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL synchronous_commit TO OFF")
        if "refresh_token" not in (client.grant_types or []):
            # oauthlib issues a refresh token with every authorization code; a client not allowed the
            # refresh_token grant could never use it, so it is neither stored nor sent.
            token.pop("refresh_token", None)
        super()._save_bearer_token(token, request, *args, **kwargs)
        audit_record(
            action="oauth_token.issued",
            actor=client,
            organization_id=self._token_organization_id(request),
            target=client,
            metadata={"clientId": client.client_id, "grantType": request.grant_type, "scope": token.get("scope"),
                      "user": request.user.email if request.user else None},
        )

    def revoke_token(self, token, token_type_hint, request, *args, **kwargs) -> None:
        super().revoke_token(token, token_type_hint, request, *args, **kwargs)
        client = request.client
        audit_record(action="oauth_token.revoked", actor=client, organization=client.organization, target=client,
                     metadata={"clientId": client.client_id, "tokenTypeHint": token_type_hint})

