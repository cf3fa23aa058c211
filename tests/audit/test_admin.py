"""The audit log in /admin/ can be read, searched and filtered, and never changed."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from accounts.models import Organization, User
from audit.models import AuditEvent
from audit.services import audit_record
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:audit_auditevent_changelist")


def listed_actions(client: Client, query: dict) -> list[str]:
    """The actions in the rows of the list page (the filter sidebar lists every action too)."""
    response = client.get(CHANGELIST, query)
    assert response.status_code == 200
    return [event.action for event in response.context["cl"].result_list]



@pytest.fixture
def event(org: Organization, owner: User) -> AuditEvent:
    return audit_record(action="member.role_changed", actor=owner, organization=org, target=org,
                        target_label="target@example.com", metadata={"from": "viewer", "to": "developer"})


def test_staff_read_an_event_with_its_metadata(staff_client, event, owner):
    response = staff_client.get(reverse("admin:audit_auditevent_change", args=[event.pk]))

    page = response.content.decode()
    assert response.status_code == 200
    assert "member.role_changed" in page
    assert owner.email in page
    assert "&quot;to&quot;: &quot;developer&quot;" in page
    assert 'name="_save"' not in page


def test_events_cannot_be_added(staff_client):
    response = staff_client.get(reverse("admin:audit_auditevent_add"))

    assert response.status_code == 403
    assert staff_client.post(reverse("admin:audit_auditevent_add"), {"action": "forged"}).status_code == 403
    assert not AuditEvent.objects.filter(action="forged").exists()


def test_posting_to_an_event_changes_nothing(staff_client, event):
    response = staff_client.post(
        reverse("admin:audit_auditevent_change", args=[event.pk]),
        {"action": "nothing.happened", "actor_label": "someone else", "target_label": "x", "metadata": "{}"},
    )

    assert response.status_code == 403
    stored = AuditEvent.objects.get(pk=event.pk)
    assert (stored.action, stored.actor_label, stored.target_label) == (
        "member.role_changed", event.actor_label, "target@example.com"
    )


def test_events_cannot_be_deleted(staff_client, event):
    url = reverse("admin:audit_auditevent_delete", args=[event.pk])

    assert staff_client.get(url).status_code == 403
    assert staff_client.post(url, {"post": "yes"}).status_code == 403
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_the_list_has_no_delete_action_and_bulk_delete_is_refused(staff_client, event):
    page = staff_client.get(CHANGELIST).content.decode()

    assert "member.role_changed" in page
    assert "delete_selected" not in page
    assert 'name="action"' not in page
    staff_client.post(CHANGELIST, {"action": "delete_selected", "_selected_action": [event.pk], "post": "yes"})
    assert AuditEvent.objects.filter(pk=event.pk).exists()


@pytest.mark.parametrize(
    ("query", "shown"),
    [
        ({"q": "alice"}, "user.signed_in"),
        ({"q": "globex"}, "organization.suspended"),
        ({"action": "organization.suspended"}, "organization.suspended"),
    ],
)
def test_events_are_searched_by_actor_or_target_and_filtered_by_action(staff_client, query, shown):
    alice = UserFactory(email="alice@example.com")
    audit_record(action="user.signed_in", actor=alice, target=alice)
    audit_record(action="organization.suspended", actor=None, target_label="globex")

    assert listed_actions(staff_client, query) == [shown]


def test_events_are_filtered_by_organization(staff_client, org, other_org):
    audit_record(action="in.acme", actor=None, organization=org)
    audit_record(action="in.globex", actor=None, organization=other_org)

    assert listed_actions(staff_client, {"organization__id__exact": org.pk}) == ["in.acme"]


def test_the_list_is_browsable_by_date(staff_client, event):
    year = event.created_at.year

    assert "member.role_changed" in listed_actions(staff_client, {"created_at__year": year})
    assert listed_actions(staff_client, {"created_at__year": year - 1}) == []


def test_staff_with_only_the_view_permission_read_the_log(event):
    staff = UserFactory(is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_auditevent"))
    client = Client()
    client.force_login(staff)

    assert client.get(CHANGELIST).status_code == 200
    assert client.get(reverse("admin:audit_auditevent_change", args=[event.pk])).status_code == 200
    assert client.post(reverse("admin:audit_auditevent_change", args=[event.pk]), {"action": "x"}).status_code == 403
