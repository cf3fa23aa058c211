"""The organization's audit log page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from audit.models import AuditEvent
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def _events(org, count: int, *, action: str = "app.created") -> list[AuditEvent]:
    """``count`` events one second apart; the last one is the newest."""
    start = timezone.now() - timedelta(hours=1)
    return AuditEvent.objects.bulk_create(
        AuditEvent(organization=org, action=action, actor_label=f"actor{n}@example.com", target_label=f"target-{n}",
                   ip_address="203.0.113.7", created_at=start + timedelta(seconds=n))
        for n in range(count)
    )


@pytest.mark.parametrize("role", [Role.OWNER, Role.ADMIN, Role.DEVELOPER, Role.VIEWER])
def test_every_member_reads_the_audit_log(org, login, role: str) -> None:
    user = MembershipFactory(organization=org, role=role).user
    _events(org, 1)

    response = login(user).get(reverse("org-audit", args=[org.slug]))

    body = response.content.decode()
    assert response.status_code == 200
    for shown in ("actor0@example.com", "app.created", "target-0", "203.0.113.7"):
        assert shown in body


def test_audit_log_is_paginated_newest_first(org, owner, login) -> None:
    _events(org, 120)
    client = login(owner)
    path = reverse("org-audit", args=[org.slug])

    first = client.get(path)
    last = client.get(path, {"page": 3})

    labels = [event.target_label for event in first.context["page"].object_list]
    assert labels == [f"target-{n}" for n in range(119, 69, -1)]
    assert "Page 1 of 3" in first.content.decode()
    assert [event.target_label for event in last.context["page"].object_list] == [
        f"target-{n}" for n in range(19, -1, -1)
    ]
    assert "target-0<" in last.content.decode()
    assert "target-0<" not in first.content.decode()


def test_out_of_range_page_shows_the_last_page(org, owner, login) -> None:
    _events(org, 60)

    response = login(owner).get(reverse("org-audit", args=[org.slug]), {"page": "999"})

    assert response.status_code == 200
    assert response.context["page"].number == 2


def test_audit_log_filters_by_an_action_present_in_the_log(org, owner, login) -> None:
    _events(org, 3, action="app.created")
    _events(org, 2, action="key.revoked")
    client = login(owner)
    path = reverse("org-audit", args=[org.slug])

    unfiltered = client.get(path).content.decode()
    assert '<option value="app.created">' in unfiltered
    assert '<option value="key.revoked">' in unfiltered

    response = client.get(path, {"action": "key.revoked"})
    events = list(response.context["page"].object_list)
    assert len(events) == 2
    assert {event.action for event in events} == {"key.revoked"}
    assert '<option value="key.revoked" selected>' in response.content.decode()


def test_unknown_action_filter_shows_everything(org, owner, login) -> None:
    _events(org, 3)

    response = login(owner).get(reverse("org-audit", args=[org.slug]), {"action": "nope"})

    assert response.context["page"].paginator.count == 3


def test_audit_log_never_shows_another_organizations_events(org, other_org, owner, login) -> None:
    AuditEvent.objects.create(organization=other_org, action="secret.thing", target_label="globex-only")

    body = login(owner).get(reverse("org-audit", args=[org.slug])).content.decode()

    assert "globex-only" not in body
    assert "secret.thing" not in body


def test_outsiders_get_404_for_the_audit_log(org, outsider, login) -> None:
    _events(org, 1)

    response = login(outsider).get(reverse("org-audit", args=[org.slug]))

    assert response.status_code == 404
    assert "actor0@example.com" not in response.content.decode()


def test_audit_log_runs_a_constant_number_of_queries(org, owner, login) -> None:
    client = login(owner)
    path = reverse("org-audit", args=[org.slug])

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(path).status_code == 200
        return len(queries)

    _events(org, 2)
    few = count()
    _events(org, 18, action="key.created")
    assert count() == few
