"""``plugin_env NAME``: the environment lines of a provisioned plugin, again (its secret decrypted)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from oauthapps.models import PluginCredential
from oauthapps.services.plugins import plugin_env_lines
from portal.encryption import DecryptionError

DECRYPTION_HELP = (
    "its secret cannot be decrypted with the configured PORTAL_ENCRYPTION_KEYS: the key it was encrypted with "
    "is not among them. Put that key back in PORTAL_ENCRYPTION_KEYS (after the current first key), run "
    "rotate_encryption_keys, and only then drop it; or rotate the plugin client's secret."
)


class Command(BaseCommand):
    help = "Print a plugin's OAUTH_CLIENT_ID, OAUTH_CLIENT_SECRET and API_BASE_URL lines again."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="the plugin's name, as given to provision_plugin")

    def handle(self, *args, **options) -> None:
        credential = PluginCredential.objects.select_related("client").filter(name=options["name"]).first()
        if credential is None:
            raise CommandError(f"No plugin named {options['name']!r}. Provision it with provision_plugin.")
        try:
            lines = plugin_env_lines(credential=credential)
        except DecryptionError:
            raise CommandError(f"The plugin {credential.name!r} exists but {DECRYPTION_HELP}") from None
        for line in lines:
            self.stdout.write(line)
