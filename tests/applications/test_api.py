"""``/api/v1/applications``: the round trip, deletion with the application's keys, and bad input."""

from __future__ import annotations

import pytest

from applications.models import Application
from audit.models import AuditEvent
from oauthapps.models import OAuthClient
from tests.factories import ApplicationFactory

pytestmark = pytest.mark.django_db


def test_application_crud_round_trip(client_a, org):
    created = client_a.post("/api/v1/applications", {"name": "Shop", "description": "Orders"}, format="json")
    assert created.status_code == 201
    app_id = created.json()["id"]
    assert created.json()["name"] == "Shop" and "createdAt" in created.json()
    assert client_a.get(f"/api/v1/applications/{app_id}").json()["description"] == "Orders"
    patched = client_a.patch(f"/api/v1/applications/{app_id}", {"name": "Shop 2"}, format="json")
    assert patched.status_code == 200 and patched.json()["name"] == "Shop 2"
    names = [a["name"] for a in client_a.get("/api/v1/applications").json()["results"]]
    assert "Shop 2" in names
    assert client_a.delete(f"/api/v1/applications/{app_id}").status_code == 204
    assert client_a.get(f"/api/v1/applications/{app_id}").status_code == 404
    actions = set(AuditEvent.objects.filter(organization=org).values_list("action", flat=True))
    assert {"application.created", "application.updated", "application.deleted"} <= actions


def test_deleting_an_application_revokes_its_keys(client_a, api_client, make_key, org):
    doomed = ApplicationFactory(organization=org)
    _, plaintext = make_key(doomed, "READ_ONLY")
    assert api_client(plaintext).get("/api/v1/hello").status_code == 200
    assert client_a.delete(f"/api/v1/applications/{doomed.pk}").status_code == 204
    assert api_client(plaintext).get("/api/v1/hello").status_code == 401
    assert AuditEvent.objects.filter(action="api_key.revoked", organization=org).exists()


def test_duplicate_application_name_is_a_validation_error(client_a, app):
    response = client_a.post("/api/v1/applications", {"name": app.name}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "VALIDATION_ERROR" and "name" in response.json()["details"]


def test_unknown_field_is_refused_not_ignored(client_a):
    response = client_a.post("/api/v1/applications", {"name": "X", "colour": "red"}, format="json")
    assert response.status_code == 400
    assert response.json()["details"] == {"colour": ["Unknown field."]}
    assert not Application.objects.filter(name="X").exists()


def test_deleting_an_application_revokes_its_keys_then_deletes_its_clients_each_audited(client_a, api_client,
                                                                                         make_key, make_client, org):
    doomed = ApplicationFactory(organization=org)
    key, plaintext = make_key(doomed, "READ_ONLY")
    client, _secret = make_client(doomed)
    kept, _ = make_client(ApplicationFactory(organization=org), name="kept")

    assert client_a.delete(f"/api/v1/applications/{doomed.pk}").status_code == 204

    assert api_client(plaintext).get("/api/v1/hello").status_code == 401
    assert list(OAuthClient.objects.filter(organization=org)) == [kept]
    events = AuditEvent.objects.filter(organization=org, action__in=[
        "api_key.revoked", "oauth_client.deleted", "application.deleted"]).order_by("id")
    assert [(event.action, event.target_id) for event in events] == [
        ("api_key.revoked", str(key.pk)), ("oauth_client.deleted", str(client.pk)),
        ("application.deleted", str(doomed.pk))]
