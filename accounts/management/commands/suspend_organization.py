"""``suspend_organization SLUG``: what the admin's suspend action does (every credential then fails)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import Organization
from accounts.organizations.services import organization_suspend
from portal.callers import Caller


class Command(BaseCommand):
    help = "Suspend an organization: every credential of it fails with AUTH_FAILED until it is reinstated."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")

    def handle(self, *args, **options) -> None:
        organization = Organization.objects.filter(slug=options["slug"]).first()
        if organization is None:
            raise CommandError(f"No organization with slug {options['slug']!r}.")
        organization_suspend(caller=Caller.system(organization))
        self.stdout.write(f"suspended: {organization.slug}")
