"""``suspend_organization SLUG``: what the admin's suspend action does (every credential then fails)."""

from __future__ import annotations

from accounts.services import organization_suspend
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import Organization


class Command(BaseCommand):
    help = "Suspend an organization: every credential of it fails with AUTH_FAILED until it is reinstated."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")

    def handle(self, *args, **options) -> None:
        organization = Organization.objects.filter(slug=options["slug"]).first()
        if organization is None:
            raise CommandError(f"No organization with slug {options['slug']!r}.")
        organization_suspend(organization=organization, actor=None)
        self.stdout.write(f"suspended: {organization.slug}")
