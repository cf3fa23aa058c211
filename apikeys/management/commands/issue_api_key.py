"""``issue_api_key --org SLUG --name NAME --preset ADMIN [...]``: prints ``key: <key>`` once."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import Organization
from apikeys.services import api_key_create
from applications.services import application_get_or_create_default
from portal.callers import Caller
from portal.commands import service_refusals_as_command_errors


class Command(BaseCommand):
    help = "Make an API key for an organization's application and print it once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--org", required=True, help="organization slug")
        parser.add_argument("--name", required=True, help="the key's name")
        parser.add_argument("--preset", help="READ_ONLY, STANDARD, ADMIN or a site preset")
        parser.add_argument("--scopes", nargs="+", default=[], help="scopes, separated by spaces; add to --preset")
        parser.add_argument("--app", default="Default", help="application name (made if missing)")
        parser.add_argument("--expires-in-days", type=int, default=None)
        parser.add_argument("--rate-limit", type=int, default=None, help="requests a minute")
        parser.add_argument("--environment", choices=["live", "test"], default="live")
        parser.add_argument("--allowed-ip", action="append", default=[], help="CIDR range; repeat for several")

    def handle(self, *args, **options) -> None:
        organization = Organization.objects.filter(slug=options["org"]).first()
        if organization is None:
            raise CommandError(f"No organization with slug {options['org']!r}.")
        if not options["preset"] and not options["scopes"]:
            raise CommandError("Give --preset or --scopes.")
        caller = Caller.system(organization)
        with service_refusals_as_command_errors():
            application = application_get_or_create_default(caller=caller, name=options["app"])
            key, plaintext = api_key_create(
                caller=caller,
                application=application,
                name=options["name"],
                scope_preset=options["preset"],
                scopes=options["scopes"],
                expires_in_days=options["expires_in_days"],
                environment=options["environment"],
                rate_limit_per_minute=options["rate_limit"],
                allowed_ips=options["allowed_ip"],
            )
        self.stdout.write(f"id: {key.public_id}")
        self.stdout.write(f"application: {application.name}")
        self.stdout.write(f"scopes: {' '.join(key.scopes)}")
        self.stdout.write(f"key: {plaintext}")
