"""GitHub secret scanning partner reports: is this body really from GitHub?

GitHub signs the raw body of every report with ECDSA P-256 over SHA-256 (the signature base64 DER in
``Github-Public-Key-Signature``) and names the key in ``Github-Public-Key-Identifier``. Its public keys are
published as ``{"public_keys": [{"key_identifier", "key" (PEM), "is_current"}]}`` at
``PORTAL_SECRET_SCANNING_KEYS_URL``.

- The keys are cached (Django's cache: Redis in production, so every worker shares one copy) for an hour.
- An identifier the cached keys do not hold makes the portal fetch them again (GitHub rotating its key), but
  at most once a minute per identifier and ``REFETCH_LIMIT`` times a minute in all: a flood of invented
  identifiers cannot make the portal hammer GitHub.
- A fetch that fails (network, status, JSON, timeout) raises ``KeysUnavailable`` (the view's 503): a report is
  never accepted because the keys could not be checked.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import json
import logging
import urllib.error
import urllib.request

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.core.cache import cache

from portal.conf import portal_settings

logger = logging.getLogger(__name__)

KEYS_CACHE_KEY = "leaks:github-keys"
KEYS_CACHE_SECONDS = 3600
REFETCH_SECONDS = 60
REFETCH_LIMIT = 10  # forced fetches a minute, whatever the identifiers
FETCH_TIMEOUT_SECONDS = 5
MAX_KEYS_DOCUMENT_BYTES = 256 * 1024
MAX_IDENTIFIER_LENGTH = 200
MAX_SIGNATURE_LENGTH = 1024


class KeysUnavailable(Exception):
    """GitHub's public keys could not be fetched: the report can be neither accepted nor refused."""


class SignatureInvalid(Exception):
    """Missing header, unknown key identifier, or a signature that does not match the body."""


def fetch_public_keys() -> dict[str, str]:
    """``{key_identifier: PEM}`` from ``PORTAL_SECRET_SCANNING_KEYS_URL``, or ``KeysUnavailable``."""
    request = urllib.request.Request(  # noqa: S310 (the operator's own setting; http only in tests)
        portal_settings.SECRET_SCANNING_KEYS_URL,
        headers={"Accept": "application/json", "User-Agent": "developer-portal-secret-scanning"},
    )
    try:
        with urllib.request.urlopen(request, timeout=FETCH_TIMEOUT_SECONDS) as response:  # noqa: S310
            document = json.loads(response.read(MAX_KEYS_DOCUMENT_BYTES + 1)[:MAX_KEYS_DOCUMENT_BYTES])
        keys = {
            str(entry["key_identifier"]): str(entry["key"])
            for entry in document["public_keys"]
            if isinstance(entry, dict) and entry.get("key_identifier") and entry.get("key")
        }
    except (OSError, urllib.error.URLError, ValueError, KeyError, TypeError) as error:
        logger.error("Could not fetch the secret scanning public keys (%s)", type(error).__name__)
        raise KeysUnavailable() from error
    _cache_set(KEYS_CACHE_KEY, keys, KEYS_CACHE_SECONDS)
    return keys


def public_key_pem(identifier: str) -> str | None:
    """The PEM of ``identifier``: from the cache, else fetched (again, within the refetch limits)."""
    keys = _cache_get(KEYS_CACHE_KEY)
    if keys is None:
        keys = fetch_public_keys()
    elif identifier not in keys and _may_refetch(identifier):
        keys = fetch_public_keys()
    return keys.get(identifier)


def verify_report_signature(body: bytes, *, identifier: str | None, signature: str | None) -> None:
    """Raise ``SignatureInvalid`` unless ``signature`` is GitHub's key ``identifier`` signing ``body`` (the raw
    bytes, before any parsing); ``KeysUnavailable`` when the keys cannot be fetched."""
    identifier, signature = (identifier or "").strip(), (signature or "").strip()
    if not identifier or not signature or len(identifier) > MAX_IDENTIFIER_LENGTH \
            or len(signature) > MAX_SIGNATURE_LENGTH:
        raise SignatureInvalid("missing or oversized header")
    try:
        der = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        raise SignatureInvalid("signature is not base64") from None
    pem = public_key_pem(identifier)
    key = _load_key(pem) if pem else None
    if key is None:
        raise SignatureInvalid("unknown key identifier")
    try:
        key.verify(der, body, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise SignatureInvalid("signature does not match") from None


@functools.lru_cache(maxsize=16)
def _load_key(pem: str) -> ec.EllipticCurvePublicKey | None:
    """A P-256 public key from its PEM; None for anything else (another curve, RSA, garbage)."""
    try:
        key = serialization.load_pem_public_key(pem.encode())
    except (ValueError, TypeError):
        logger.warning("A secret scanning public key is not a PEM public key")
        return None
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        logger.warning("A secret scanning public key is not an ECDSA P-256 key")
        return None
    return key


def _may_refetch(identifier: str) -> bool:
    """Once a minute per identifier, ``REFETCH_LIMIT`` a minute in all. A cache that fails says no."""
    digest = hashlib.sha256(identifier.encode()).hexdigest()[:32]
    try:
        if not cache.add(f"leaks:github-keys:refetch:{digest}", 1, REFETCH_SECONDS):
            return False
        cache.add("leaks:github-keys:refetches", 0, REFETCH_SECONDS)
        return cache.incr("leaks:github-keys:refetches") <= REFETCH_LIMIT
    except Exception as error:  # the cache client's own errors
        logger.error("Secret scanning: no refetch of the keys, the cache failed (%s)", type(error).__name__)
        return False


def _cache_get(name: str):
    try:
        return cache.get(name)
    except Exception as error:  # a cache outage costs a fetch, never a wrong answer
        logger.error("Secret scanning: the key cache failed (%s)", type(error).__name__)
        return None


def _cache_set(name: str, value, seconds: int) -> None:
    try:
        cache.set(name, value, seconds)
    except Exception as error:
        logger.error("Secret scanning: the key cache failed (%s)", type(error).__name__)
