"""Device codes (RFC 8628): the user codes people type, and their status when a device polls the token endpoint.

Part of the device authorization grant; its endpoint and the ``/device`` page are in
``oauthapps.device_authorization``.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.utils import timezone
from oauth2_provider.models import DeviceGrant
from oauthlib.oauth2.rfc8628.grant_types import DeviceCodeGrant

from oauthapps.models import DeviceAuthorization
from portal.hashing import sha256

DEVICE_CODE_SECONDS = 600
SLOW_DOWN_STEP_SECONDS = 5
# RFC 8628 section 6.1: 20 consonants, none that reads like another; 8 of them are about 34.6 bits, and
# guessing is limited per person and per IP.
USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"
USER_CODE_LENGTH = 8


def new_user_code() -> str:
    """``WDJB-MJHT``: what the person reads on the device and types at ``/device``."""
    code = "".join(secrets.choice(USER_CODE_ALPHABET) for _ in range(USER_CODE_LENGTH))
    return f"{code[:4]}-{code[4:]}"


def display_user_code(code: str) -> str:
    return f"{code[:4]}-{code[4:]}" if len(code) == USER_CODE_LENGTH else code


def normalize_user_code(typed: str) -> str:
    """The stored form of a user code: upper case, without the dash or spaces a person may type."""
    return "".join(ch for ch in (typed or "").upper() if ch.isalnum())[:32]


def pending_device_grant(user_code: str) -> DeviceGrant | None:
    """The device grant waiting for a person with this code, or None (unknown, expired, or already decided)."""
    code = normalize_user_code(user_code)
    if len(code) != USER_CODE_LENGTH:
        return None
    grant = (DeviceGrant.objects.filter(user_code=code, status=DeviceGrant.AUTHORIZATION_PENDING,
                                        expires__gt=timezone.now())
             .order_by("-expires").first())
    return grant


class DeviceCodeValidatorMixin:
    """``validate_device_code`` for oauthlib's ``DeviceCodeGrant``, with the portal's storage and rules."""

    def validate_device_code(self, client_id, code, request, *args, **kwargs) -> str | None:
        """The status of a device code for its client (RFC 8628 section 3.5), or None for an unknown code.

        An approved code is spent here, once: its row goes, so a second poll is ``invalid_grant``."""
        grant = (DeviceGrant.objects.select_related("portal", "user")
                 .filter(device_code=sha256(code or ""), client_id=client_id).first())
        if grant is None:
            return None
        now = timezone.now()
        if grant.status == DeviceGrant.EXPIRED or now >= grant.expires:
            DeviceGrant.objects.filter(pk=grant.pk).update(status=DeviceGrant.EXPIRED)
            return DeviceCodeGrant.DEVICE_CODE_EXPIRED
        if grant.status == DeviceGrant.DENIED:
            return DeviceCodeGrant.DEVICE_CODE_DENIED
        if grant.status == DeviceGrant.AUTHORIZED:
            spent, _ = DeviceGrant.objects.filter(pk=grant.pk, status=DeviceGrant.AUTHORIZED).delete()
            if not spent:
                return None  # another poll spent it a moment ago
            request.user = grant.user
            request.scopes = grant.scope.split()
            request.portal_organization_id = grant.portal.organization_id
            return DeviceCodeGrant.DEVICE_CODE_AUTHORIZED
        last = grant.portal.last_polled_at
        DeviceAuthorization.objects.filter(pk=grant.portal.pk).update(last_polled_at=now)
        if last is not None and now - last < timedelta(seconds=grant.interval):
            # RFC 8628 section 3.5: the client must then add 5 seconds to its interval; so does the server.
            DeviceGrant.objects.filter(pk=grant.pk).update(interval=grant.interval + SLOW_DOWN_STEP_SECONDS)
            return DeviceCodeGrant.DEVICE_CODE_SLOW_DOWN
        return DeviceCodeGrant.DEVICE_CODE_PENDING
