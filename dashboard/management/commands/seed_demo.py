"""``manage.py seed_demo``: the demo data of the quick start. Safe to run again."""

from __future__ import annotations

import secrets
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.invitations.services import invitation_accept, invitation_create
from accounts.models import Membership, Organization, User
from accounts.organizations.services import organization_create
from accounts.people.services import user_signup
from accounts.roles import Role
from accounts.selectors import access_organization_by_slug
from dashboard.demo_workload import seed_workload
from portal.callers import Caller
from portal.conf import portal_settings

DEMO_EMAIL = "demo@example.com"
TEAMMATE_EMAIL = "teammate@example.com"
DEMO_ORG_NAME = "Demo Org"
DEMO_ORG_SLUG = "demo"


class Command(BaseCommand):
    help = ("Create the demo user (password printed once), the 'Demo Org' organization, a teammate, an application "
            "with a test key and some usage, and a webhook endpoint turned off.")

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            password = self._seed()
        self.stdout.write(f"email: {DEMO_EMAIL}")
        if password is not None:
            self.stdout.write(f"password: {password}")
        self.stdout.write(f"url: {portal_settings.BASE_URL}/accounts/login/")

    def _seed(self) -> str | None:
        """Create what is missing. Returns the demo user's password if the user was created now."""
        password = None
        demo = User.objects.filter(email__iexact=DEMO_EMAIL).first()
        if demo is None:
            password = secrets.token_urlsafe(12)
            demo, _personal = user_signup(email=DEMO_EMAIL, password=password, full_name="Demo User",
                                          email_verified=True)
            self.stdout.write(f"Created the demo user {DEMO_EMAIL}; its password is shown once below.")
        else:
            self.stdout.write(
                f"The demo user {DEMO_EMAIL} already exists; its password is not shown again. "
                f"Reset it with  python manage.py changepassword {DEMO_EMAIL}"
            )

        organization = Organization.objects.filter(slug=DEMO_ORG_SLUG).first()
        if organization is None:
            organization = organization_create(caller=Caller.system(), name=DEMO_ORG_NAME, slug=DEMO_ORG_SLUG,
                                               owner=demo)
            self.stdout.write(f"Created the organization {DEMO_ORG_NAME!r} (slug {DEMO_ORG_SLUG}).")

        teammate = User.objects.filter(email__iexact=TEAMMATE_EMAIL).first()
        if teammate is None:
            # Nobody signs in as the teammate: the password is random and never printed.
            teammate, _personal = user_signup(email=TEAMMATE_EMAIL, password=secrets.token_urlsafe(24),
                                              full_name="Demo Teammate", email_verified=True)
        if not Membership.objects.filter(organization=organization, user=teammate).exists():
            access = access_organization_by_slug(demo, organization.slug)
            # Accepted at once: no e-mail needs to go out for it.
            _invitation, token = invitation_create(caller=access.caller, email=TEAMMATE_EMAIL, role=Role.DEVELOPER,
                                                   notify=False)
            invitation_accept(caller=Caller.for_person(teammate), token=token)
            self.stdout.write(f"Added {TEAMMATE_EMAIL} to {DEMO_ORG_NAME!r} as {Role.DEVELOPER.label.lower()}.")
        # An application with a test key, usage, and a webhook endpoint turned off (contract section 10).
        seed_workload(access_organization_by_slug(demo, organization.slug), self.stdout.write)
        return password
