"""``create_oauth_client --org SLUG --name NAME --grant GRANT [...]``: prints ``client_id:`` and, for a
confidential client, ``client_secret:`` once."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import Organization
from applications.services import application_get_or_create_default
from oauthapps.models import ACCESS_TOKEN_FORMATS, OAuthClient
from oauthapps.server import GRANT_TYPES
from oauthapps.services.clients import oauth_client_create
from portal import scopes as scope_registry
from portal.callers import Caller
from portal.commands import service_refusals_as_command_errors


class Command(BaseCommand):
    help = "Register an OAuth client for an organization's application and print its secret once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--org", required=True, help="organization slug")
        parser.add_argument("--name", required=True, help="the client's name")
        parser.add_argument("--grant", action="append", default=[], required=True,
                            help=f"one of {', '.join(GRANT_TYPES)}; repeat for several")
        parser.add_argument("--redirect-uri", action="append", default=[], help="repeat for several")
        parser.add_argument("--public", action="store_true", help="a public client (no secret, PKCE only)")
        parser.add_argument("--scopes", nargs="+", default=None,
                            help="scopes its tokens may hold, separated by spaces (default: every read scope)")
        parser.add_argument("--rate-limit", type=int, default=None, help="requests a minute")
        parser.add_argument("--app", default="Default", help="application name (made if missing)")
        parser.add_argument("--access-token-format", choices=ACCESS_TOKEN_FORMATS, default="opaque",
                            help="opaque (default), or jwt: RFC 9068 access tokens that services verify alone")

    def handle(self, *args, **options) -> None:
        organization = Organization.objects.filter(slug=options["org"]).first()
        if organization is None:
            raise CommandError(f"No organization with slug {options['org']!r}.")
        caller = Caller.system(organization)
        scopes = options["scopes"] or scope_registry.presets()["READ_ONLY"]
        with service_refusals_as_command_errors():
            application = application_get_or_create_default(caller=caller, name=options["app"])
            client, secret = oauth_client_create(
                caller=caller,
                application=application,
                name=options["name"],
                client_type=OAuthClient.CLIENT_PUBLIC if options["public"] else OAuthClient.CLIENT_CONFIDENTIAL,
                grant_types=options["grant"],
                redirect_uris=options["redirect_uri"],
                allowed_scopes=scopes,
                rate_limit_per_minute=options["rate_limit"],
                access_token_format=options["access_token_format"],
            )
        self.stdout.write(f"application: {application.name}")
        self.stdout.write(f"grants: {' '.join(client.grant_types)}")
        self.stdout.write(f"scopes: {' '.join(client.allowed_scopes)}")
        self.stdout.write(f"access_token_format: {client.access_token_format}")
        self.stdout.write(f"client_id: {client.client_id}")
        if secret:
            self.stdout.write(f"client_secret: {secret}")
