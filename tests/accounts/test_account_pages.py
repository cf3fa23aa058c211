from __future__ import annotations

import pytest
from django.test import Client

from audit.models import AuditEvent
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def test_the_root_leads_to_the_dashboard_or_the_sign_in(login, owner):
    assert Client().get("/").url == "/dashboard/"
    assert login(owner).get("/", follow=True).redirect_chain[-1][0] == "/dashboard/"
    assert Client().get("/", follow=True).redirect_chain[-1][0].startswith("/accounts/login/")


@pytest.mark.parametrize("path", ["/accounts/signup/", "/orgs/new/"])
def test_an_empty_post_shows_the_errors_not_a_blank_form(login, owner, path):
    client = login(owner) if path == "/orgs/new/" else Client()
    response = client.post(path, {})
    assert response.status_code in (200, 400)
    assert "This field is required" in response.content.decode()


def test_changing_the_password_is_audited_and_keeps_the_session(login, owner):
    client = login(owner)
    new = "another-long-passphrase-42"
    response = client.post("/accounts/password/", {"old_password": PASSWORD, "new_password1": new,
                                                   "new_password2": new})
    assert response.status_code == 302 and response.url == "/dashboard/"
    assert client.get("/dashboard/").status_code == 200  # still signed in
    owner.refresh_from_db()
    assert owner.check_password(new)
    event = AuditEvent.objects.get(action="user.password_changed")
    assert event.actor_user == owner and new not in str(event.metadata)
