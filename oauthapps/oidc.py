"""OpenID Connect claims, through django-oauth-toolkit's hooks.

``sub`` is the person's id (DOT's default, stable; never the e-mail, which can change); ``org`` is the slug of
the organization the grant is bound to. ``email`` and ``email_verified`` come with the ``email`` scope,
``name`` with ``profile`` where the person has one (DOT's ``oidc_claim_scope`` does the filtering). ID tokens
are RS256 with the portal's signing keys (``oauthapps.signing_keys``; ``OAuthClient.jwk_key``).
"""

from __future__ import annotations

from contextvars import ContextVar

from django.apps import apps
from oauth2_provider.oauth2_validators import OAuth2Validator

from accounts.models import Organization
from oauthapps.models import TokenOrganization

CLAIMS_SUPPORTED = ["sub", "iss", "aud", "exp", "iat", "auth_time", "jti", "nonce", "at_hash", "org", "email",
                    "email_verified", "name"]


def email_is_verified(user) -> bool:
    """Whether the person proved they receive mail at their address: django-allauth's record where it runs
    the accounts (section 11); without it the portal has no proof, so ``False``."""
    if not apps.is_installed("allauth.account"):
        return False
    email_address = apps.get_model("account", "EmailAddress")
    return email_address.objects.filter(user=user, email__iexact=user.email, verified=True).exists()


#: Set by the authorize page while it validates a request of someone not signed in (oauthlib's request does not
#: carry Django's user): the validator then refuses a silent login.
NOBODY_SIGNED_IN: ContextVar[bool] = ContextVar("portal_oidc_nobody_signed_in", default=False)


def bound_organization_slug(request) -> str | None:
    """The slug of the organization the grant or token acts in.

    At the token endpoint the validator has put it on the request (``portal_organization_id``, from the code,
    refresh token or device grant); at userinfo it is the access token's binding."""
    organization_id = getattr(request, "portal_organization_id", None)
    if organization_id is None:
        access_token = getattr(request, "access_token", None)
        binding = TokenOrganization.objects.filter(access_token=access_token).first() if access_token else None
        organization_id = binding.organization_id if binding else getattr(request.client, "organization_id", None)
    if organization_id is None:  # a token bound to no organization
        return None
    return Organization.objects.filter(pk=organization_id).values_list("slug", flat=True).first()


class OpenIDClaimsMixin:
    """The portal's claims, through DOT's hooks (``get_additional_claims`` and ``oidc_claim_scope``)."""

    oidc_claim_scope = {**OAuth2Validator.oidc_claim_scope, "org": "openid"}

    def validate_silent_login(self, request) -> bool:
        """False while the authorize page answers someone not signed in (``ConsentView.handle_no_permission``), so
        ``prompt=none`` goes back to the client with ``login_required`` (OpenID Connect Core 3.1.2.6); any other
        request that reaches validation has a person."""
        return not NOBODY_SIGNED_IN.get()

    def validate_silent_authorization(self, request) -> bool:
        """``prompt=none`` can never be honoured: the person must choose the organization every time, so such a
        request goes back to the client with ``consent_required`` (OpenID Connect Core section 3.1.2.6)."""
        return False

    def get_additional_claims(self, request) -> dict:
        user = request.user
        claims = {"org": bound_organization_slug(request), "email": user.email,
                  "email_verified": email_is_verified(user)}
        if user.full_name:
            claims["name"] = user.full_name
        return claims
