"""``revoke_unused_keys [--as-of ISO8601]``: the unused-key job at once, as if it were that moment."""

from __future__ import annotations

from datetime import UTC

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from security.unused import unused_keys_run


class Command(BaseCommand):
    help = "Revoke keys not used for their organization's revokeUnusedKeysAfterDays, and send the notices."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--as-of", help="run as if it were this moment (ISO 8601; UTC when no offset is given)")

    def handle(self, *args, **options) -> None:
        now = None
        if options["as_of"]:
            now = parse_datetime(options["as_of"])
            if now is None:
                raise CommandError(f"--as-of: not an ISO 8601 date and time: {options['as_of']!r}")
            if timezone.is_naive(now):
                now = timezone.make_aware(now, UTC)
        done = unused_keys_run(now)
        self.stdout.write(f"noticed: {done['noticed']}")
        self.stdout.write(f"revoked: {done['revoked']}")
