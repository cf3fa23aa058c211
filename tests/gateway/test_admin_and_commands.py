"""Resource servers in the admin and with the commands: the secret shown once, stored only hashed, every change
audited; suspend and reinstate from the command line as the admin's actions do."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse

from accounts.models import Organization
from audit.models import AuditEvent
from gateway.credentials import hash_secret
from gateway.models import ResourceServer
from tests.gateway.conftest import basic

pytestmark = pytest.mark.django_db


def run(*args) -> dict[str, str]:
    out = StringIO()
    call_command(*args, stdout=out)
    return dict(line.split(": ", 1) for line in out.getvalue().splitlines())


def gateway_status(client_id: str, secret: str, key: str) -> int:
    return Client().get("/gateway/auth", HTTP_PORTAL_GATEWAY_AUTHORIZATION=basic(client_id, secret),
                        HTTP_X_API_KEY=key).status_code


def test_create_prints_the_credentials_once_and_stores_only_a_hash(admin_key):
    printed = run("create_resource_server", "orders-api", "--scopes", "orders:read", "apps:read")
    server = ResourceServer.objects.get(name="orders-api")
    assert printed["client_id"] == server.client_id
    assert server.secret_hash == hash_secret(printed["client_secret"])
    assert printed["client_secret"] not in str(ResourceServer.objects.values().get())
    assert server.scopes == ["apps:read", "orders:read"]
    assert gateway_status(printed["client_id"], printed["client_secret"], admin_key) == 200
    event = AuditEvent.objects.get(action="resource_server.created")
    assert printed["client_secret"] not in str(event.metadata)


def test_create_refuses_unknown_scopes_and_a_taken_name():
    with pytest.raises(CommandError, match="nosuch:scope"):
        run("create_resource_server", "x", "--scopes", "nosuch:scope")
    run("create_resource_server", "x", "--scopes", "apps:read")
    with pytest.raises(CommandError, match="already exists"):
        run("create_resource_server", "x", "--scopes", "apps:read")


def test_rotate_prints_a_new_secret_and_the_old_one_stops(admin_key):
    created = run("create_resource_server", "orders-api", "--scopes", "apps:read")
    rotated = run("rotate_resource_server_secret", "orders-api")
    assert rotated["client_secret"] != created["client_secret"]
    assert gateway_status(created["client_id"], created["client_secret"], admin_key) == 403
    assert gateway_status(created["client_id"], rotated["client_secret"], admin_key) == 200
    assert AuditEvent.objects.filter(action="resource_server.secret_rotated").count() == 1


def test_disable_refuses_the_server_from_the_next_call(admin_key):
    created = run("create_resource_server", "orders-api", "--scopes", "apps:read")
    run("disable_resource_server", "orders-api")
    assert gateway_status(created["client_id"], created["client_secret"], admin_key) == 403
    assert AuditEvent.objects.filter(action="resource_server.disabled").count() == 1
    with pytest.raises(CommandError):
        run("disable_resource_server", "nosuch")


def test_suspend_and_reinstate_organization_commands(org, admin_key):
    created = run("create_resource_server", "orders-api", "--scopes", "apps:read")
    run("suspend_organization", "acme")
    assert Organization.objects.get(pk=org.pk).suspended_at is not None
    assert gateway_status(created["client_id"], created["client_secret"], admin_key) == 401
    run("reinstate_organization", "acme")
    assert gateway_status(created["client_id"], created["client_secret"], admin_key) == 200
    assert list(AuditEvent.objects.filter(action__startswith="organization.").values_list("action", flat=True)
                .order_by("id")) == ["organization.suspended", "organization.reinstated"]
    with pytest.raises(CommandError):
        run("suspend_organization", "nosuch")


def shown_secret(page: str) -> str:
    return re.search(r'id="secret-1" type="text" class="vTextField" size="80" value="([^"]+)"', page)[1]


def test_the_admin_creates_a_server_and_shows_its_secret_once(staff_client, admin_key):
    response = staff_client.post(reverse("admin:gateway_resourceserver_add"),
                                 {"name": "orders-api", "scopes": ["orders:read", "apps:read"]})
    assert response.status_code == 302
    page = staff_client.get(response["Location"])
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    secret = shown_secret(page.content.decode())
    server = ResourceServer.objects.get(name="orders-api")
    assert gateway_status(server.client_id, secret, admin_key) == 200
    assert staff_client.get(response["Location"]).status_code == 410  # shown once
    change = staff_client.get(reverse("admin:gateway_resourceserver_change", args=[server.pk])).content.decode()
    assert secret not in change and server.secret_hash not in change
    listing = staff_client.get(reverse("admin:gateway_resourceserver_changelist")).content.decode()
    assert server.client_id in listing and server.secret_hash not in listing
    event = AuditEvent.objects.get(action="resource_server.created")
    assert event.actor_user_id is not None


def test_the_admin_rotates_and_disables(staff_client, admin_key):
    created = run("create_resource_server", "orders-api", "--scopes", "apps:read")
    server = ResourceServer.objects.get()
    changelist = reverse("admin:gateway_resourceserver_changelist")
    rotated = staff_client.post(changelist, {"action": "rotate_secret", "_selected_action": [server.pk]})
    assert rotated.status_code == 302
    secret = shown_secret(staff_client.get(rotated["Location"]).content.decode())
    assert gateway_status(server.client_id, created["client_secret"], admin_key) == 403
    assert gateway_status(server.client_id, secret, admin_key) == 200
    staff_client.post(changelist, {"action": "disable_servers", "_selected_action": [server.pk]})
    assert gateway_status(server.client_id, secret, admin_key) == 403
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"resource_server.secret_rotated", "resource_server.disabled"} <= actions


def test_the_admin_changes_the_scopes_through_the_service(staff_client):
    run("create_resource_server", "orders-api", "--scopes", "apps:read")
    server = ResourceServer.objects.get()
    response = staff_client.post(reverse("admin:gateway_resourceserver_change", args=[server.pk]),
                                 {"scopes": ["orders:read"]})
    assert response.status_code == 302
    server.refresh_from_db()
    assert server.scopes == ["orders:read"]
    assert AuditEvent.objects.get(action="resource_server.updated").metadata["after"] == {"scopes": ["orders:read"]}
