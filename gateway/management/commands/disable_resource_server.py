"""``disable_resource_server NAME``: the server is refused from the next request on."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from gateway.selectors import resource_server_by_name
from gateway.services import resource_server_disable


class Command(BaseCommand):
    help = "Disable a resource server: its gateway and introspection calls are refused."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name")

    def handle(self, *args, **options) -> None:
        server = resource_server_by_name(options["name"])
        if server is None:
            raise CommandError(f"No resource server named {options['name']!r}.")
        resource_server_disable(server=server, actor=None)
        self.stdout.write(f"disabled: {server.name}")
