"""The audit log's filters (actor, action, object, days) and its CSV export, used over HTTP."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def _event(org, action: str = "app.created", *, at: datetime | None = None, **fields) -> AuditEvent:
    fields.setdefault("actor_label", "system")
    return AuditEvent.objects.create(organization=org, action=action,
                                     created_at=at or datetime(2026, 11, 20, 12, 0, tzinfo=UTC), **fields)


def _labels(response) -> list[str]:
    return [event.target_label for event in response.context["listing"].page]


def _audit(org) -> str:
    return reverse("org-audit", args=[org.slug])


def _export(org) -> str:
    return reverse("org-audit-export", args=[org.slug])


def _csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_filter_by_a_member_or_a_credential(org, owner, login) -> None:
    colleague = MembershipFactory(organization=org).user
    _event(org, actor_user=owner, actor_label=owner.email, target_label="by the owner")
    _event(org, actor_user=colleague, actor_label=colleague.email, target_label="by the colleague")
    _event(org, actor_credential_type="api_key", actor_credential_id="AbCdEf123456",
           actor_label="CI (dp_live_AbCdEf123456…)", target_label="by a key")
    _event(org, target_label="by nobody")
    client = login(owner)

    page = client.get(_audit(org)).content.decode()
    assert f'<option value="user:{colleague.pk}">{colleague.email}</option>' in page
    assert '<option value="api_key:AbCdEf123456">CI (dp_live_AbCdEf123456…)</option>' in page

    assert _labels(client.get(_audit(org), {"actor": f"user:{colleague.pk}"})) == ["by the colleague"]
    assert _labels(client.get(_audit(org), {"actor": "api_key:AbCdEf123456"})) == ["by a key"]
    assert _labels(client.get(_audit(org), {"actor": "system"})) == ["by nobody"]


def test_each_actor_links_to_the_log_filtered_by_it(org, owner, login) -> None:
    _event(org, actor_credential_type="api_key", actor_credential_id="AbCdEf123456", actor_label="CI key",
           target_type="apikey", target_id="7", target_label="the key")
    _event(org, target_label="something else")
    client = login(owner)

    body = client.get(_audit(org)).content.decode()

    assert f'href="{_audit(org)}?actor=api_key:AbCdEf123456">CI key</a>' in body
    assert f'href="{_audit(org)}?target_type=apikey&amp;target_id=7">the key</a>' in body
    assert _labels(client.get(_audit(org), {"target_type": "apikey", "target_id": "7"})) == ["the key"]


def test_filter_by_action_and_by_object(org, owner, login) -> None:
    _event(org, "api_key.created", target_type="apikey", target_id="1", target_label="key one")
    _event(org, "api_key.revoked", target_type="apikey", target_id="1", target_label="key one revoked")
    _event(org, "api_key.created", target_type="apikey", target_id="2", target_label="key two")
    _event(org, "member.added", target_type="membership", target_id="1", target_label="a member")
    client = login(owner)

    assert sorted(_labels(client.get(_audit(org), {"action": "api_key.created"}))) == ["key one", "key two"]
    assert sorted(_labels(client.get(_audit(org), {"target_type": "apikey", "target_id": "1"}))) == [
        "key one", "key one revoked"]
    assert _labels(client.get(_audit(org), {"target_type": "membership"})) == ["a member"]
    assert _labels(client.get(_audit(org), {"action": "api_key.created", "target_id": "2"})) == ["key two"]


def test_filter_by_days_in_utc_both_days_included(org, owner, login) -> None:
    for day, hour in ((9, 23), (10, 0), (11, 23), (12, 0)):
        _event(org, at=datetime(2026, 11, day, hour, 30, tzinfo=UTC), target_label=f"{day}th {hour}h")
    client = login(owner)

    response = client.get(_audit(org), {"since": "2026-11-10", "until": "2026-11-11"})

    assert _labels(response) == ["11th 23h", "10th 0h"]
    assert _labels(client.get(_audit(org), {"since": "2026-11-12"})) == ["12th 0h"]
    assert _labels(client.get(_audit(org), {"until": "2026-11-09"})) == ["9th 23h"]


@pytest.mark.parametrize("params, said", [
    ({"since": "yesterday"}, "From:"),
    ({"until": "2026-13-40"}, "To:"),
    ({"since": "2026-11-12", "until": "2026-11-10"}, "before the “From” day"),
    ({"actor": "user:999999"}, "Actor:"),
    ({"until": "9999-12-31"}, None),  # the last day there is: no end at all, never an overflow
])
def test_bad_filter_values_are_ignored_with_a_message(org, owner, login, params, said) -> None:
    _event(org, target_label="the event")

    response = login(owner).get(_audit(org), params)

    assert response.status_code == 200
    assert _labels(response) == ["the event"]
    if said:
        assert said in response.content.decode()
        assert "It was ignored." in response.content.decode()


def test_filters_are_kept_across_pages(org, owner, login) -> None:
    for n in range(60):
        _event(org, "api_key.created", at=datetime(2026, 11, 20, 12, n, tzinfo=UTC), target_label=f"key {n}")
    _event(org, "member.added", target_label="not a key")
    client = login(owner)

    first = client.get(_audit(org), {"action": "api_key.created"})
    second = client.get(_audit(org), {"action": "api_key.created", "page": 2})

    assert 'href="?action=api_key.created&amp;page=2" rel="next"' in first.content.decode()
    assert _labels(second) == [f"key {n}" for n in range(9, -1, -1)]
    assert "Page 2 of 2 · 60 events found" in second.content.decode()


def test_a_viewer_reads_and_exports_the_log(org, viewer, login) -> None:
    _event(org, target_label="the event")
    client = login(viewer)

    assert _labels(client.get(_audit(org))) == ["the event"]
    assert client.get(_export(org)).status_code == 200


def test_the_export_is_a_csv_file_of_the_filtered_events(org, owner, login) -> None:
    _event(org, "api_key.created", at=datetime(2026, 11, 20, 12, 0, 5, tzinfo=UTC), actor_user=owner,
           actor_label=owner.email, target_type="apikey", target_id="7", target_label="CI deploys",
           ip_address="203.0.113.7", user_agent="curl/8.5", metadata={"scopes": ["apps:read"]})
    _event(org, "member.added", target_label="left out by the filter")

    response = login(owner).get(_export(org), {"action": "api_key.created"})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="audit-acme-')
    assert response["Content-Disposition"].endswith('.csv"')
    rows = _csv(response)
    assert rows[0] == ["time_utc", "actor_type", "actor_id", "actor", "action", "target_type", "target_id",
                       "target", "ip_address", "user_agent", "metadata"]
    assert rows[1:] == [["2026-11-20T12:00:05Z", "user", str(owner.pk), owner.email, "api_key.created", "apikey",
                         "7", "CI deploys", "203.0.113.7", "curl/8.5", '{"scopes": ["apps:read"]}']]


def test_the_page_offers_the_export_of_what_it_shows(org, owner, login) -> None:
    _event(org, "api_key.created")

    body = login(owner).get(_audit(org), {"action": "api_key.created", "actor": "bogus"}).content.decode()

    assert f'href="{_export(org)}?action=api_key.created"' in body


def test_the_page_answers_csv_too(org, owner, login) -> None:
    _event(org, "api_key.created", target_label="wanted")
    _event(org, "member.added", target_label="not wanted")

    response = login(owner).get(_audit(org), {"format": "csv", "action": "api_key.created"})

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert [row[7] for row in _csv(response)[1:]] == ["wanted"]


@pytest.mark.parametrize("label", ["=HYPERLINK(\"https://evil.example\")", "+1+1", "-2+3", "@SUM(A1)",
                                   "\tcmd", "\rcmd"])
def test_cells_a_spreadsheet_would_run_are_escaped(org, owner, login, label) -> None:
    _event(org, actor_label=label, target_label=label)

    rows = _csv(login(owner).get(_export(org)))

    assert rows[1][3] == f"'{label}"
    assert rows[1][7] == f"'{label}"


def test_the_export_holds_only_this_organizations_events_newest_first(org, other_org, owner, login) -> None:
    for n in range(3):
        _event(org, at=datetime(2026, 11, 20, 12, n, tzinfo=UTC), target_label=f"ours {n}")
    _event(other_org, target_label="theirs")

    rows = _csv(login(owner).get(_export(org)))

    assert [row[7] for row in rows[1:]] == ["ours 2", "ours 1", "ours 0"]


def test_outsiders_cannot_export(org, outsider, login) -> None:
    _event(org, target_label="ours")

    response = login(outsider).get(_export(org))

    assert response.status_code == 404
    assert b"ours" not in response.content


@pytest.mark.parametrize("count", [1, 30])
def test_the_page_runs_the_same_queries_for_one_event_or_thirty(org, owner, login, count,
                                                                django_assert_num_queries) -> None:
    for n in range(count):
        _event(org, actor_user=owner, actor_label=owner.email, target_type="apikey", target_id=str(n),
               target_label=f"key {n}")
    client = login(owner)

    # session, user, membership, actors (people and credentials), actions, object types, the header's
    # organizations, the count and the page
    with django_assert_num_queries(10):
        response = client.get(_audit(org), {"action": "app.created"})

    assert len(_labels(response)) == count


def test_an_export_is_itself_audited_with_its_filters(org, owner, login) -> None:
    _event(org, "api_key.created", target_label="wanted")

    rows = _csv(login(owner).get(_export(org), {"action": "api_key.created"}))

    assert [row[7] for row in rows[1:]] == ["wanted"]
    exported = AuditEvent.objects.get(action="audit.exported")
    assert exported.organization == org
    assert exported.actor_user == owner
    assert exported.metadata == {"filters": "action=api_key.created"}
