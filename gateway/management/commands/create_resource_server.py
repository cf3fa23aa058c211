"""``create_resource_server NAME --scopes SCOPE [SCOPE ...]``: prints ``client_id:`` and ``client_secret:`` once."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser

from gateway.services import resource_server_create
from portal.commands import service_refusals_as_command_errors


class Command(BaseCommand):
    help = "Register a resource server (a service or gateway that accepts the portal's credentials)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name")
        parser.add_argument("--scopes", nargs="+", required=True, help="the scopes it serves, separated by spaces")

    def handle(self, *args, **options) -> None:
        with service_refusals_as_command_errors():
            server, secret = resource_server_create(name=options["name"], scopes=options["scopes"], actor=None)
        self.stdout.write(f"name: {server.name}")
        self.stdout.write(f"scopes: {' '.join(server.scopes)}")
        self.stdout.write(f"client_id: {server.client_id}")
        self.stdout.write(f"client_secret: {secret}")
