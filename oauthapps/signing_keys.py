"""The RSA keys that sign ID tokens and JWT access tokens (RS256), and the JWKS that publishes them.

The private keys live in the database (``SigningKey``), encrypted with ``PORTAL_ENCRYPTION_KEYS``, so every
worker and host signs with the same key and a rotation needs no restart: DOT's ``OIDC_RSA_PRIVATE_KEY``
setting is read once per process and could not change under a running server. The first key is made on
first use. ``rotate_signing_key`` makes a new one that signs from then on; the old one stays in the JWKS until
everything it signed has expired (the longest token lifetime), so no verifier ever meets an unknown ``kid``
for a live token.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from jwcrypto import jwk
from oauth2_provider.settings import oauth2_settings

from audit.services import audit_record
from oauthapps.models import SigningKey
from portal.callers import Caller
from portal.encryption import decrypt, encrypt, reencrypt

logger = logging.getLogger(__name__)

RSA_KEY_BITS = 2048
ALGORITHM = "RS256"
# JWT access tokens live 5 minutes (contract section 17).
JWT_ACCESS_TOKEN_SECONDS = 300


@dataclass(frozen=True)
class LoadedKey:
    kid: str
    jwk: jwk.JWK


# Decrypting and parsing an RSA key costs about a millisecond; a key never changes once made, so each
# process keeps the parsed keys it has used, by kid. Which key signs is read from the database every time.
_parsed: dict[str, jwk.JWK] = {}


def _load(key: SigningKey) -> LoadedKey:
    parsed = _parsed.get(key.kid)
    if parsed is None:
        parsed = jwk.JWK.from_pem(decrypt(key.encrypted_private_key).encode())
        _parsed[key.kid] = parsed
    return LoadedKey(kid=key.kid, jwk=parsed)


def retired_key_lifetime() -> timedelta:
    """How long a retired key stays published: the longest life of anything it may have signed."""
    return timedelta(seconds=max(oauth2_settings.ID_TOKEN_EXPIRE_SECONDS, JWT_ACCESS_TOKEN_SECONDS))


def _new_key() -> SigningKey:
    private = jwk.JWK.generate(kty="RSA", size=RSA_KEY_BITS)
    kid = private.thumbprint()
    public = {**json.loads(private.export_public()), "kid": kid, "alg": ALGORITHM, "use": "sig"}
    return SigningKey.objects.create(
        kid=kid,
        encrypted_private_key=encrypt(private.export_to_pem(private_key=True, password=None).decode()),
        public_jwk=public,
    )


def current_signing_key() -> LoadedKey:
    """The key that signs now; the first one is made here, on first use."""
    key = SigningKey.objects.filter(retired_at__isnull=True).first()
    if key is None:
        with transaction.atomic():
            key = _new_key()
        logger.info("Made the first signing key %s", key.kid)
    return _load(key)


def published_keys() -> list[dict]:
    """The public JWKs a verifier may meet: the signing key(s) and the retired keys whose tokens may live."""
    cutoff = timezone.now() - retired_key_lifetime()
    keys = SigningKey.objects.filter(retired_at__isnull=True) | SigningKey.objects.filter(retired_at__gt=cutoff)
    return [dict(key.public_jwk) for key in keys.order_by("-created_at", "-id")]


@transaction.atomic
def signing_key_rotate(*, caller: Caller) -> tuple[SigningKey, list[SigningKey]]:
    """A new key signs from now on; the keys it replaces stay published until their tokens have expired.

    Returns ``(new key, retired keys)``. Audited (the key ids only, never key material)."""
    now = timezone.now()
    retired = list(SigningKey.objects.select_for_update().filter(retired_at__isnull=True))
    for key in retired:
        key.retired_at = now
        key.save(update_fields=["retired_at"])
    new = _new_key()
    audit_record(action="signing_key.rotated", actor=caller.audit_actor, target=new, target_label=new.kid,
                 metadata={"kid": new.kid, "retired": [key.kid for key in retired],
                           "retiredPublishedUntil": (now + retired_key_lifetime()).isoformat()})
    return new, retired


def signing_keys_reencrypt() -> int:
    """Re-encrypt every stored private key under the first of ``PORTAL_ENCRYPTION_KEYS`` (for
    ``rotate_encryption_keys``); the caller holds the transaction."""
    count = 0
    for key in SigningKey.objects.select_for_update().order_by("pk"):
        key.encrypted_private_key = reencrypt(key.encrypted_private_key)
        key.save(update_fields=["encrypted_private_key"])
        count += 1
    return count
