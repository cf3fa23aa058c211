"""Applications in the admin: made, renamed and deleted through the services, and audited under the staff user."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apikeys import services
from applications.models import Application
from audit.models import AuditEvent
from portal.callers import Caller
from tests.factories import ApplicationFactory

pytestmark = pytest.mark.django_db


def test_staff_create_an_application_and_it_is_audited(staff_client, staff, org):
    response = staff_client.post(reverse("admin:applications_application_add"),
                                 {"organization": org.pk, "name": "Billing sync", "description": "Nightly"})

    assert response.status_code == 302
    application = Application.objects.get(name="Billing sync")
    assert (application.organization, application.created_by, application.description) == (org, staff, "Nightly")
    event = AuditEvent.objects.get(action="application.created")
    assert (event.actor_user, event.organization, event.target_label) == (staff, org, "Billing sync")


def test_a_duplicate_name_in_another_case_is_shown_in_the_form(staff_client, org):
    ApplicationFactory(organization=org, name="Billing")

    response = staff_client.post(reverse("admin:applications_application_add"),
                                 {"organization": org.pk, "name": "BILLING", "description": ""})

    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    assert Application.objects.filter(organization=org).count() == 1


def test_staff_rename_an_application_and_it_is_audited(staff_client, staff, org):
    application = ApplicationFactory(organization=org, name="Old")

    response = staff_client.post(reverse("admin:applications_application_change", args=[application.pk]),
                                 {"name": "New", "description": application.description})

    assert response.status_code == 302
    application.refresh_from_db()
    assert (application.name, application.organization) == ("New", org)
    assert AuditEvent.objects.get(action="application.updated").metadata == {"fields": ["name"]}


def test_deleting_an_application_in_the_admin_revokes_its_keys(staff_client, staff, org):
    application = ApplicationFactory(organization=org)
    key, _plaintext = services.api_key_create(caller=Caller.system(org), application=application, name="ci",
                                              scope_preset="READ_ONLY")

    response = staff_client.post(reverse("admin:applications_application_delete", args=[application.pk]),
                                 {"post": "yes"})

    assert response.status_code == 302
    assert not Application.objects.filter(pk=application.pk).exists()
    revoked = AuditEvent.objects.get(action="api_key.revoked")
    assert (revoked.actor_user, revoked.target_id) == (staff, str(key.pk))
    assert AuditEvent.objects.filter(action="application.deleted", actor_user=staff).count() == 1
