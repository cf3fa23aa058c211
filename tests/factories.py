from __future__ import annotations

from datetime import timedelta

import factory
from allauth.account.models import EmailAddress
from django.utils import timezone

from accounts.models import Invitation, Membership, Organization, User
from accounts.roles import Role
from applications.models import Application

PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    full_name = factory.Faker("name")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):  # noqa: N805
        if create:
            obj.save()

    @factory.post_generation
    def verified(obj, create, extracted, **kwargs):  # noqa: N805
        """A verified address unless ``UserFactory(verified=False)`` (a person who has not used their link yet)."""
        if create and extracted is not False:
            EmailAddress.objects.create(user=obj, email=obj.email, primary=True, verified=True)


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Org {n}")
    slug = factory.Sequence(lambda n: f"org-{n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    organization = factory.SubFactory(OrganizationFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.DEVELOPER


class InvitationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Invitation

    organization = factory.SubFactory(OrganizationFactory)
    email = factory.Sequence(lambda n: f"invitee{n}@example.com")
    role = Role.DEVELOPER
    token_hash = factory.Sequence(lambda n: f"{n:064x}")
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=7))


class ApplicationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Application

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"App {n}")
    description = "An integration"
