"""What a person who has not verified their address yet meets (contract sections 4, 8 and 11): the overview right
after sign-up with a banner and a button that mails the link again, a two-factor page that says first why nothing
can be turned on yet, and a key form that says beside the environment choice that live keys need the address."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client

from accounts.models import User
from tests.factories import ApplicationFactory
from tests.helpers import committed

pytestmark = pytest.mark.django_db

PASSWORD = "a-much-longer-passphrase-42"


@pytest.fixture
def newcomer() -> Client:
    client = Client()
    with committed():
        response = client.post("/accounts/signup/", {"email": "new@example.com", "password1": PASSWORD,
                                                     "password2": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/dashboard/"
    mail.outbox.clear()
    return client


def test_sign_up_lands_on_the_overview_with_the_banner_and_its_button_sends_the_link_again(newcomer, settings):
    page = newcomer.get("/dashboard/")
    html = page.content.decode()
    assert page.status_code == 200 and page.templates[0].name == "accounts/org_overview.html"
    assert "Verify your email address." in html and "new@example.com" in html
    form = re.search(r'<form method="post" action="(/[^"]+)"[^>]*>\s*<input type="hidden" name="csrfmiddlewaretoken"'
                     r'[^>]*>\s*<input type="hidden" name="next" value="([^"]*)">\s*<button[^>]*>Send the link again',
                     html)
    assert form, html
    settings.ACCOUNT_RATE_LIMITS = {"confirm_email": None}  # as if the few minutes between two links had passed
    with committed():
        sent = newcomer.post(form.group(1), {"next": form.group(2)})
    assert sent.status_code == 302 and sent["Location"] == "/dashboard/"
    (message,) = mail.outbox
    assert message.to == ["new@example.com"] and "/accounts/confirm-email/" in message.body


def test_the_banner_is_gone_once_verified(newcomer):
    from allauth.account.models import EmailAddress

    EmailAddress.objects.filter(user=User.objects.get(email="new@example.com")).update(verified=True)
    assert "Verify your email address" not in newcomer.get("/dashboard/").content.decode()


def test_the_two_factor_page_says_it_first_and_offers_no_button_that_cannot_work(newcomer):
    html = newcomer.get("/accounts/2fa/").content.decode()
    assert "Verify your email address first." in html and "Send the link again" in html
    assert html.index("Verify your email address first.") < html.index("Authenticator app")
    assert "/accounts/2fa/totp/activate/" not in html and "/accounts/2fa/webauthn/add/" not in html
    assert ">Activate<" not in html and ">Add<" not in html


def test_a_verified_person_sees_the_buttons(login, owner):
    html = login(owner).get("/accounts/2fa/").content.decode()
    assert "/accounts/2fa/totp/activate/" in html and "/accounts/2fa/webauthn/add/" in html
    assert "Verify your email address" not in html


def test_the_key_form_says_beside_the_environment_that_live_keys_need_a_verified_address(newcomer):
    organization = newcomer.get("/dashboard/").context["access"].organization
    application = ApplicationFactory(organization=organization)
    page = newcomer.get(f"/orgs/{organization.slug}/apps/{application.pk}/keys/new/")
    html = page.content.decode()
    assert page.status_code == 200
    at = html.index('name="environment"')
    assert "Live keys need a verified email address" in html[at - 1200:at + 1200]  # beside the choice


def test_a_verified_person_gets_no_such_note(login, owner, app):
    html = login(owner).get(f"/orgs/acme/apps/{app.pk}/keys/new/").content.decode()
    assert "Live keys need a verified email address" not in html
