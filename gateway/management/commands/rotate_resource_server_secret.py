"""``rotate_resource_server_secret NAME``: prints the new ``client_secret:`` once; the old one stops at once."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from gateway.selectors import resource_server_by_name
from gateway.services import resource_server_rotate_secret


class Command(BaseCommand):
    help = "Give a resource server a new secret (printed once); the old one stops working at once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name")

    def handle(self, *args, **options) -> None:
        server = resource_server_by_name(options["name"])
        if server is None:
            raise CommandError(f"No resource server named {options['name']!r}.")
        server, secret = resource_server_rotate_secret(server=server, actor=None)
        self.stdout.write(f"client_id: {server.client_id}")
        self.stdout.write(f"client_secret: {secret}")
