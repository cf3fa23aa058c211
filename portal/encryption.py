"""Encryption for the few secrets the portal must read again, with ``PORTAL_ENCRYPTION_KEYS``.

MultiFernet: the first key encrypts, every key decrypts, so keys rotate without downtime.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from portal.conf import portal_settings


class DecryptionError(Exception):
    """The ciphertext was made with a key that is no longer configured, or was altered."""


def _fernet() -> MultiFernet:
    keys = portal_settings.ENCRYPTION_KEYS
    if not keys:
        raise RuntimeError("PORTAL_ENCRYPTION_KEYS is empty")
    return MultiFernet([Fernet(key.encode() if isinstance(key, str) else key) for key in keys])


def encrypt(plaintext: str) -> str:
    return _fernet().encrypt(plaintext.encode()).decode()


def decrypt(ciphertext: str) -> str:
    try:
        return _fernet().decrypt(ciphertext.encode()).decode()
    except InvalidToken:
        raise DecryptionError("Cannot decrypt with the configured PORTAL_ENCRYPTION_KEYS") from None


def reencrypt(ciphertext: str) -> str:
    """The same secret under the first key (for ``rotate_encryption_keys``)."""
    try:
        return _fernet().rotate(ciphertext.encode()).decode()
    except InvalidToken:
        raise DecryptionError("Cannot decrypt with the configured PORTAL_ENCRYPTION_KEYS") from None
