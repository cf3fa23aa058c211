"""``reinstate_organization SLUG``: what the admin's reinstate action does."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import Organization
from accounts.organizations.services import organization_reinstate
from portal.callers import Caller


class Command(BaseCommand):
    help = "Reinstate a suspended organization: its credentials work again."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")

    def handle(self, *args, **options) -> None:
        organization = Organization.objects.filter(slug=options["slug"]).first()
        if organization is None:
            raise CommandError(f"No organization with slug {options['slug']!r}.")
        organization_reinstate(caller=Caller.system(organization))
        self.stdout.write(f"reinstated: {organization.slug}")
