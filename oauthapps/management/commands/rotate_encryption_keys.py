"""``rotate_encryption_keys``: re-encrypt every stored plugin secret under the first PORTAL_ENCRYPTION_KEYS key."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from oauthapps.services.plugins import encryption_keys_rotate
from portal.encryption import DecryptionError


class Command(BaseCommand):
    help = ("Re-encrypt every plugin secret and signing key under the first key of PORTAL_ENCRYPTION_KEYS; "
            "afterwards the other keys can be removed.")

    def handle(self, *args, **options) -> None:
        try:
            count = encryption_keys_rotate()
        except DecryptionError:
            raise CommandError(
                "A stored secret cannot be decrypted with any key of PORTAL_ENCRYPTION_KEYS, so nothing was changed. "
                "Add the key it was encrypted with (after the new first key) and run again."
            ) from None
        self.stdout.write(f"re-encrypted: {count}")
