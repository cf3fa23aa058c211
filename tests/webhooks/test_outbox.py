"""What recording an event costs the request, and the worker's fan-out of it into deliveries (webhooks.outbox,
services.event_fan_out). No receiver: these tests look at the rows."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from portal import events
from portal.callers import Caller
from webhooks import services
from webhooks.models import WebhookDelivery, WebhookEvent
from webhooks.services import webhook_endpoint_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def endpoint(allow_private, org):
    def _endpoint(event_types, organization=org, **fields):
        made, _secret = webhook_endpoint_create(caller=Caller.system(organization), url="http://127.0.0.1:9/hook",
                                                event_types=event_types, **fields)
        return made

    return _endpoint


def never_built():
    pytest.fail("data was built for an event nobody takes")


def post_key(client, app):
    response = client.post("/api/v1/api-keys", {"name": "ci", "applicationId": app.pk, "scopePreset": "READ_ONLY",
                                                "environment": "test"}, format="json")
    assert response.status_code == 201, response.content


def test_an_event_nobody_takes_costs_one_query_and_writes_nothing(org, endpoint, django_assert_num_queries):
    with django_assert_num_queries(1):
        events.publish(org.pk, "api_key.created", never_built)
    endpoint(["member.added"])
    endpoint(["*"], enabled=False)
    with django_assert_num_queries(1):
        events.publish(org.pk, "api_key.created", never_built)

    assert not WebhookEvent.objects.exists()


def test_an_event_someone_takes_is_one_row_in_the_request_and_no_delivery_yet(
        org, endpoint, django_assert_num_queries, django_capture_on_commit_callbacks):
    endpoint(["api_key.created"])
    endpoint(["*"])

    with django_capture_on_commit_callbacks() as callbacks, django_assert_num_queries(2):  # the check, the row
        events.publish(org.pk, "api_key.created", {"id": "key_1", "name": "ci"})

    (event,) = WebhookEvent.objects.all()
    assert (event.type, event.data, event.organization_id) == ("api_key.created", {"id": "key_1", "name": "ci"}, org.pk)
    assert event.event_id.startswith("msg_") and event.fanned_out_at is None
    assert not WebhookDelivery.objects.exists()
    assert len(callbacks) == 1  # one ask for the sweep, made on commit


def test_making_a_key_with_an_endpoint_costs_the_request_one_query_more(client_a, app, endpoint, other_app, api_client,
                                                                       make_key):
    _key, other_plaintext = make_key(other_app)
    client_b = api_client(other_plaintext)
    endpoint(["api_key.created"])
    post_key(client_a, app)  # warm both paths
    post_key(client_b, other_app)

    with CaptureQueriesContext(connection) as hooked:
        post_key(client_a, app)
    with CaptureQueriesContext(connection) as plain:
        post_key(client_b, other_app)

    assert len(hooked.captured_queries) == len(plain.captured_queries) + 1
    assert WebhookEvent.objects.filter(organization=app.organization).count() == 2
    assert not WebhookEvent.objects.filter(organization=other_app.organization).exists()


def test_a_change_that_rolls_back_leaves_no_row_and_asks_the_worker_nothing(
        org, endpoint, django_capture_on_commit_callbacks):
    endpoint(["*"])
    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(RuntimeError):
        with transaction.atomic():
            events.publish(org.pk, "api_key.created", {"id": "key_1"})
            raise RuntimeError("the change fails after the event was recorded")

    assert callbacks == []
    assert not WebhookEvent.objects.exists() and not WebhookDelivery.objects.exists()


def test_the_fan_out_makes_one_delivery_per_endpoint_however_often_it_runs(org, other_org, endpoint):
    created, every = endpoint(["api_key.created"]), endpoint(["*"])
    for event_types, fields in ((["api_key.revoked"], {}), (["*"], {"enabled": False}),
                                (["*"], {"organization": other_org})):
        endpoint(event_types, **fields)
    events.publish(org.pk, "api_key.created", {"id": "key_1"})
    event = WebhookEvent.objects.get()

    services.event_fan_out(event.pk)
    services.event_fan_out(event.pk)
    # A worker that died after making the deliveries but before it stamped the event: the next run adds none.
    WebhookEvent.objects.filter(pk=event.pk).update(fanned_out_at=None)
    services.event_fan_out(event.pk)
    services.deliver_due()

    deliveries = WebhookDelivery.objects.filter(event=event)
    assert sorted(d.endpoint_id for d in deliveries) == sorted([created.pk, every.pk])
    event.refresh_from_db()
    assert event.fanned_out_at is not None


def test_an_endpoint_registered_after_the_event_does_not_get_it(org, endpoint):
    endpoint(["*"])
    events.publish(org.pk, "api_key.created", {"id": "key_1"})
    late = endpoint(["*"])

    services.event_fan_out(WebhookEvent.objects.get().pk)

    assert WebhookDelivery.objects.count() == 1
    assert not WebhookDelivery.objects.filter(endpoint=late).exists()
