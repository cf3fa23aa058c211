"""``create_organization`` and ``seed_demo``: what they print, what they make, and that a second run is harmless."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts.models import Membership, Organization, User
from accounts.roles import Role
from audit.models import AuditEvent
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def run(*args: str) -> tuple[str, dict[str, str]]:
    """Run a command; return its output and its ``label: value`` lines, as a script would read them."""
    out = StringIO()
    call_command(*args, stdout=out)
    text = out.getvalue()
    values = {}
    for line in text.splitlines():
        label, sep, value = line.partition(": ")
        if sep and label.isidentifier():
            values[label] = value
    return text, values


# --- create_organization -------------------------------------------------------------------------------------


def test_create_organization_makes_the_owner_and_prints_slug_and_password():
    _text, values = run("create_organization", "Acme Widgets", "--owner", "Founder@Example.com")

    assert values["slug"] == "acme-widgets"
    owner = User.objects.get(email="founder@example.com")
    assert owner.check_password(values["password"])
    assert len(values["password"]) >= 16
    organization = Organization.objects.get(slug="acme-widgets")
    assert list(organization.memberships.values_list("user", "role")) == [(owner.pk, Role.OWNER)]


def test_create_organization_is_audited_as_the_system():
    _text, values = run("create_organization", "Acme", "--owner", "founder@example.com")

    event = AuditEvent.objects.get(action="organization.created", organization__slug=values["slug"])
    assert (event.actor_user, event.actor_label) == (None, "system")


def test_an_existing_owner_gets_no_password_line():
    owner = UserFactory(email="founder@example.com")

    _text, values = run("create_organization", "Acme", "--owner", "founder@example.com", "--slug", "acme-hq")

    assert values == {"slug": "acme-hq"}
    assert Membership.objects.get(organization__slug="acme-hq").user == owner
    assert not owner.check_password(values.get("password", ""))


@pytest.mark.parametrize("slug_args", [["--slug", "acme"], []], ids=["with-slug", "derived-slug"])
def test_running_create_organization_twice_makes_one_organization(slug_args):
    _first, first = run("create_organization", "Acme", "--owner", "founder@example.com", *slug_args)

    text, second = run("create_organization", "Acme", "--owner", "founder@example.com", *slug_args)

    assert "already exists" in text
    assert second == {"slug": first["slug"]}
    assert Organization.objects.filter(name="Acme").count() == 1
    assert User.objects.filter(email="founder@example.com").count() == 1
    assert AuditEvent.objects.filter(action="organization.created", organization__name="Acme").count() == 1


def test_the_same_name_for_another_owner_is_a_new_organization():
    _text, first = run("create_organization", "Acme", "--owner", "one@example.com")
    _text, second = run("create_organization", "Acme", "--owner", "two@example.com")

    assert (first["slug"], second["slug"]) == ("acme", "acme-2")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["Acme", "--owner", "not-an-email"], "email address"),
        (["  ", "--owner", "founder@example.com"], "name"),
        (["Acme", "--owner", "founder@example.com", "--slug", "!!!"], "letters, numbers"),
    ],
)
def test_create_organization_refuses_bad_input_without_making_anything(args, message):
    with pytest.raises(CommandError, match=message):
        run("create_organization", *args)

    assert not Organization.objects.exists()
    assert not User.objects.exists()


# --- seed_demo -----------------------------------------------------------------------------------------------


def test_seed_demo_prints_a_working_demo_login():
    _text, values = run("seed_demo")

    assert values["email"] == "demo@example.com"
    assert User.objects.get(email="demo@example.com").check_password(values["password"])
    assert values["url"].endswith("/accounts/login/")


def test_seed_demo_makes_demo_org_with_an_owner_and_a_developer():
    run("seed_demo")

    organization = Organization.objects.get(slug="demo")
    assert organization.name == "Demo Org"
    assert sorted(organization.memberships.values_list("user__email", "role")) == [
        ("demo@example.com", Role.OWNER),
        ("teammate@example.com", Role.DEVELOPER),
    ]
    actions = set(AuditEvent.objects.filter(organization=organization).values_list("action", flat=True))
    assert {"organization.created", "member.added", "invitation.created", "invitation.accepted"} <= actions


@pytest.mark.django_db(transaction=True)  # so the command's own commit runs its on-commit callbacks (mail)
def test_seed_demo_sends_no_mail(mailoutbox):
    run("seed_demo")

    assert Membership.objects.filter(organization__slug="demo").count() == 2
    assert mailoutbox == []


def test_running_seed_demo_again_changes_nothing_and_says_how_to_reset_the_password():
    _text, first = run("seed_demo")
    counts = (User.objects.count(), Organization.objects.count(), Membership.objects.count(),
              AuditEvent.objects.count())

    text, second = run("seed_demo")

    assert "already exists" in text
    assert "manage.py changepassword demo@example.com" in text
    assert second["email"] == "demo@example.com"
    assert "password" not in second
    assert User.objects.get(email="demo@example.com").check_password(first["password"])
    assert (User.objects.count(), Organization.objects.count(), Membership.objects.count(),
            AuditEvent.objects.count()) == counts
