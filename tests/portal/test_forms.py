"""Form labels read "Name", not Django's "Name:": one renderer for the portal's forms and django-allauth's."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db

LABEL_END_WITH_COLON = re.compile(r":\s*</(label|legend)>")


@pytest.mark.parametrize("path", [
    "/accounts/signup/", "/accounts/login/", "/accounts/password/reset/",  # django-allauth's forms
])
def test_anonymous_forms_have_labels_without_a_colon(path) -> None:
    html = Client().get(path).content.decode()
    assert "<label" in html
    assert not LABEL_END_WITH_COLON.search(html)


@pytest.mark.parametrize("name", ["key-create", "org-members", "password-change", "app-list"])
def test_dashboard_forms_have_labels_without_a_colon(org, owner, login, app, name) -> None:
    args = {"key-create": [org.slug, app.pk], "org-members": [org.slug], "app-list": [org.slug]}.get(name, [])
    html = login(owner).get(reverse(name, args=args)).content.decode()
    assert "<label" in html
    assert not LABEL_END_WITH_COLON.search(html), LABEL_END_WITH_COLON.search(html)
    if name == "key-create":
        assert '<label for="id_name">Name</label>' in html and "<legend>Scopes</legend>" in html
