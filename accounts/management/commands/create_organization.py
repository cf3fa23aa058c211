"""``manage.py create_organization NAME --owner EMAIL [--slug SLUG]`` (contract section 10)."""

from __future__ import annotations

import secrets
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.validators import validate_email
from django.db import transaction
from django.utils.text import slugify

from accounts.models import Organization, User
from accounts.organizations.services import organization_create
from accounts.people.services import user_signup
from accounts.roles import Role
from portal.callers import Caller


def _messages(error: ValidationError) -> str:
    return " ".join(error.messages)


class Command(BaseCommand):
    help = (
        "Create an organization owned by EMAIL (and the user, with a random password, if new). "
        "Prints 'slug: <slug>' and, for a new user, 'password: <password>'. Safe to run again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="Name of the organization.")
        parser.add_argument("--owner", required=True, metavar="EMAIL", help="Email of the owner.")
        parser.add_argument("--slug", help="Slug (default: derived from the name).")

    @transaction.atomic
    def handle(self, *args: Any, name: str, owner: str, slug: str | None, **options: Any) -> None:
        email = owner.strip().lower()
        try:
            validate_email(email)
        except ValidationError:
            raise CommandError(f"--owner must be an email address, not {owner!r}.") from None
        if not name.strip():
            raise CommandError("Give the organization a name.")

        existing = self._existing(name=name, email=email, slug=slug)
        if existing is not None:
            self.stdout.write(f"Organization {existing.name!r} already exists; nothing changed.")
            self.stdout.write(f"slug: {existing.slug}")
            return

        password = None
        user = User.objects.filter(email__iexact=email).first()
        try:
            if user is None:
                password = secrets.token_urlsafe(16)
                # The operator vouches for the address: the person can make live keys from their first sign-in.
                user, _personal = user_signup(email=email, password=password, email_verified=True)
            organization = organization_create(caller=Caller.system(), name=name, owner=user, slug=slug or None)
        except ValidationError as error:
            raise CommandError(_messages(error)) from None

        self.stdout.write(f"Created organization {organization.name!r} owned by {user.email}.")
        self.stdout.write(f"slug: {organization.slug}")
        if password is not None:
            self.stdout.write(f"email: {user.email}")
            self.stdout.write(f"password: {password}")

    def _existing(self, *, name: str, email: str, slug: str | None) -> Organization | None:
        """The organization a previous run made: the same slug, or without --slug the same name and owner."""
        if slug:
            return Organization.objects.filter(slug=slugify(slug)).first()
        return Organization.objects.filter(
            slug=slugify(name)[:50] or "org",
            name=name.strip(),
            memberships__user__email__iexact=email,
            memberships__role=Role.OWNER,
        ).first()
