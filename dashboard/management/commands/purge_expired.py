"""``purge_expired [--batch-size N]``: remove expired tokens, codes and long-dead API keys, in batches.

Each app purges its own rows (``oauthapps.services.housekeeping``, ``apikeys.services``); this command, on the
top floor (``dashboard``) above both, runs one after the other.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apikeys.services import api_keys_purge_expired
from oauthapps.services.housekeeping import oauth_purge_expired


class Command(BaseCommand):
    help = ("Remove expired OAuth tokens and codes, spent codes older than a day, and API keys that expired or were "
            "revoked more than 90 days ago.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=1000, help="rows deleted per statement")

    def handle(self, *args, **options) -> None:
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1.")
        for purge_app in (oauth_purge_expired, api_keys_purge_expired):
            purge_app(batch_size=options["batch_size"],
                      progress=lambda kind, count: self.stdout.write(f"{kind}: removed {count}"))
