"""Purging OAuth tokens and codes that can never be used again (API keys purge their own: ``apikeys.services``)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone
from oauth2_provider.models import AccessToken, DeviceGrant, Grant, IDToken, RefreshToken
from oauth2_provider.settings import oauth2_settings

from oauthapps.models import SpentAuthorizationCode
from portal.housekeeping import Progress, purge

SPENT_CODE_RETENTION = timedelta(days=1)


def oauth_purge_expired(*, batch_size: int = 1000, now: datetime | None = None,
                        progress: Progress | None = None) -> dict[str, int]:
    """Remove expired tokens and codes, in batches. Returns the number removed of each kind.

    The rules are django-oauth-toolkit's ``clear_expired``: a refresh token lives ``REFRESH_TOKEN_EXPIRE_SECONDS``
    past its access token's expiry; a revoked one is kept as long (reuse protection needs it to recognise a replay
    and revoke the family); an access token that still has a refresh token stays (deleting it would orphan the
    refresh token). Spent authorization codes are kept a day (a replay after that finds no code anyway).
    """
    now = now or timezone.now()
    refresh_lifetime = timedelta(seconds=oauth2_settings.REFRESH_TOKEN_EXPIRE_SECONDS or 0)
    refresh_cutoff = now - refresh_lifetime
    if oauth2_settings.REFRESH_TOKEN_REUSE_PROTECTION:
        revoked_cutoff = refresh_cutoff
    else:
        revoked_cutoff = now - timedelta(seconds=oauth2_settings.REFRESH_TOKEN_GRACE_PERIOD_SECONDS or 0)
    plan = [
        ("refresh tokens", RefreshToken.objects.filter(
            Q(revoked__lte=revoked_cutoff)
            | Q(revoked__isnull=True, access_token__isnull=True)
            | Q(revoked__isnull=True, access_token__expires__lte=refresh_cutoff)
        )),
        ("access tokens", AccessToken.objects.filter(refresh_token__isnull=True, expires__lt=now)),
        ("id tokens", IDToken.objects.filter(access_token__isnull=True, expires__lt=now)),
        ("authorization codes", Grant.objects.filter(expires__lt=now)),
        ("device codes", DeviceGrant.objects.filter(expires__lt=now)),
        ("spent authorization codes", SpentAuthorizationCode.objects.filter(spent_at__lt=now - SPENT_CODE_RETENTION)),
    ]
    return purge(plan, batch_size=batch_size, progress=progress)
