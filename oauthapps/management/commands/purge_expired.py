"""``purge_expired [--batch-size N]``: remove expired tokens, codes and long-dead API keys, in batches."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from oauthapps.services import purge_expired


class Command(BaseCommand):
    help = ("Remove expired OAuth tokens and codes, spent codes older than a day, and API keys that expired or were "
            "revoked more than 90 days ago.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=1000, help="rows deleted per statement")

    def handle(self, *args, **options) -> None:
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1.")
        purge_expired(batch_size=options["batch_size"],
                      progress=lambda kind, count: self.stdout.write(f"{kind}: removed {count}"))
