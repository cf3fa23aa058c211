"""``rotate_signing_key``: a new key signs ID tokens and JWT access tokens; the old one stays in the JWKS until
what it signed has expired."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from oauthapps.signing_keys import retired_key_lifetime, signing_key_rotate
from portal.callers import Caller


class Command(BaseCommand):
    help = ("Make a new signing key for ID tokens and JWT access tokens. The old key stays in the JWKS until "
            "every token it signed has expired.")

    def handle(self, *args, **options) -> None:
        new, retired = signing_key_rotate(caller=Caller.system())
        self.stdout.write(f"kid: {new.kid}")
        for key in retired:
            self.stdout.write(f"retired: {key.kid}")
            assert key.retired_at is not None  # signing_key_rotate has just retired it
            self.stdout.write(f"published_until: {(key.retired_at + retired_key_lifetime()).isoformat()}")
