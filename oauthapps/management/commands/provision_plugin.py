"""``provision_plugin NAME --org SLUG --scopes ...``: a client-credentials client for an internal plugin, printed
as the three lines of an environment file. Running it again prints the same lines and makes nothing."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import Organization
from oauthapps.management.commands.plugin_env import DECRYPTION_HELP
from oauthapps.services.plugins import plugin_env_lines, plugin_provision
from portal.callers import Caller
from portal.commands import service_refusals_as_command_errors
from portal.encryption import DecryptionError


class Command(BaseCommand):
    help = "Provision an internal plugin's OAuth client (client credentials) and print its environment lines."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="the plugin's name (lower-case letters, digits, - and _)")
        parser.add_argument("--org", required=True, help="organization slug")
        parser.add_argument("--scopes", nargs="+", required=True, help="scopes, separated by spaces")

    def handle(self, *args, **options) -> None:
        organization = Organization.objects.filter(slug=options["org"]).first()
        if organization is None:
            raise CommandError(f"No organization with slug {options['org']!r}.")
        try:
            with service_refusals_as_command_errors():
                credential, secret, created = plugin_provision(caller=Caller.system(organization), name=options["name"],
                                                               scopes=options["scopes"])
        except DecryptionError:
            raise CommandError(f"The plugin {options['name']!r} exists but {DECRYPTION_HELP}") from None
        if not created:
            # On stderr, so that stdout stays exactly the three lines of the environment file.
            self.stderr.write(f"The plugin {credential.name!r} already exists; nothing was created. "
                              "Its environment lines:")
        for line in plugin_env_lines(credential=credential, secret=secret):
            self.stdout.write(line)
