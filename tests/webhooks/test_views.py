"""The dashboard's webhook pages and the admin, as a person uses them."""

from __future__ import annotations

import json
import re

import pytest

from webhooks.models import WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db


def _add_endpoint(client, url: str, **data):
    return client.post("/orgs/acme/webhooks/", {"url": url, "description": "CI", "all_events": "on",
                                                "enabled": "on", **data})


def test_a_new_endpoint_shows_its_secret_once(receiver, owner, login):
    client = login(owner)
    response = _add_endpoint(client, receiver.url)
    assert response.status_code == 302 and response["Location"] == "/orgs/acme/webhooks/secret/"

    page = client.get("/orgs/acme/webhooks/secret/")
    secret = re.search(r'value="(whsec_[^"]+)"', page.content.decode()).group(1)
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    assert client.get("/orgs/acme/webhooks/secret/").status_code == 410
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.event_types == ["*"] and secret not in endpoint.secret_encrypted
    assert secret not in client.get(f"/orgs/acme/webhooks/{endpoint.pk}/").content.decode()


def test_the_form_refuses_an_internal_address(owner, login):
    response = _add_endpoint(login(owner), "https://169.254.169.254/latest/meta-data/")
    assert response.status_code == 400 and b"private" in response.content
    assert not WebhookEndpoint.objects.exists()


def test_send_a_test_event_and_resend_it_from_the_log(receiver, owner, login, django_capture_on_commit_callbacks):
    client = login(owner)
    _add_endpoint(client, receiver.url)
    endpoint = WebhookEndpoint.objects.get()

    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"/orgs/acme/webhooks/{endpoint.pk}/test/").status_code == 302
    delivery = WebhookDelivery.objects.get()
    page = client.get(f"/orgs/acme/webhooks/{endpoint.pk}/").content.decode()
    assert "webhook.test" in page and delivery.event.event_id in page and "HTTP 200" in page

    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/orgs/acme/webhooks/{endpoint.pk}/deliveries/{delivery.pk}/resend/")
    first, second = receiver.wait_for(2)
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    assert json.loads(second.body)["type"] == "webhook.test"


def test_rotating_shows_the_new_secret_once(receiver, owner, login):
    client = login(owner)
    _add_endpoint(client, receiver.url)
    client.get("/orgs/acme/webhooks/secret/")
    endpoint = WebhookEndpoint.objects.get()
    assert client.post(f"/orgs/acme/webhooks/{endpoint.pk}/rotate/").status_code == 302
    assert b"whsec_" in client.get("/orgs/acme/webhooks/secret/").content
    endpoint.refresh_from_db()
    assert endpoint.previous_secret_encrypted and endpoint.previous_secret_until


def test_a_viewer_reads_but_cannot_change(receiver, owner, viewer, login):
    _add_endpoint(login(owner), receiver.url)
    endpoint = WebhookEndpoint.objects.get()
    client = login(viewer)
    assert client.get("/orgs/acme/webhooks/").status_code == 200
    assert client.get(f"/orgs/acme/webhooks/{endpoint.pk}/").status_code == 200
    assert _add_endpoint(client, receiver.url).status_code == 403
    assert client.post(f"/orgs/acme/webhooks/{endpoint.pk}/test/").status_code == 403
    assert client.post(f"/orgs/acme/webhooks/{endpoint.pk}/delete/").status_code == 403
    assert WebhookEndpoint.objects.count() == 1


def test_another_organization_sees_nothing(receiver, owner, outsider, login):
    _add_endpoint(login(owner), receiver.url)
    endpoint = WebhookEndpoint.objects.get()
    client = login(outsider)
    assert client.get(f"/orgs/acme/webhooks/{endpoint.pk}/").status_code == 404
    assert client.get(f"/orgs/globex/webhooks/{endpoint.pk}/").status_code == 404


def test_disable_and_delete_from_the_dashboard(receiver, owner, login):
    client = login(owner)
    _add_endpoint(client, receiver.url)
    endpoint = WebhookEndpoint.objects.get()
    client.post(f"/orgs/acme/webhooks/{endpoint.pk}/", {"url": receiver.url, "all_events": "on"})
    endpoint.refresh_from_db()
    assert endpoint.enabled is False
    assert client.get(f"/orgs/acme/webhooks/{endpoint.pk}/delete/").status_code == 200
    assert client.post(f"/orgs/acme/webhooks/{endpoint.pk}/delete/").status_code == 302
    assert not WebhookEndpoint.objects.exists()


def test_the_admin_never_shows_the_secret_and_resends_as_an_action(
        receiver, register, client_a, staff_client, django_capture_on_commit_callbacks):
    endpoint, secret = register(receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        client_a.post(f"/api/v1/webhooks/{endpoint['id']}/test")
    stored = WebhookEndpoint.objects.get()
    delivery = WebhookDelivery.objects.get()

    for url in ("/admin/webhooks/webhookendpoint/", f"/admin/webhooks/webhookendpoint/{stored.pk}/change/",
                "/admin/webhooks/webhookdelivery/", f"/admin/webhooks/webhookdelivery/{delivery.pk}/change/"):
        page = staff_client.get(url)
        assert page.status_code == 200, url
        assert secret not in page.content.decode() and stored.secret_encrypted not in page.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post("/admin/webhooks/webhookdelivery/", {"action": "resend", "_selected_action": [delivery.pk]})
    first, second = receiver.wait_for(2)
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    assert staff_client.get("/admin/webhooks/webhookendpoint/add/").status_code == 403
