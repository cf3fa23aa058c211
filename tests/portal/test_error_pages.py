"""The portal's own error pages, with debug off and on (the quick start runs with debug on): never Django's yellow
technical pages on the dashboard, and JSON on the API either way."""

from __future__ import annotations

import logging

import pytest
from django.core.exceptions import SuspiciousOperation
from django.test import Client
from django.urls import include, path

pytestmark = pytest.mark.django_db

DJANGO_DEBUG_PAGE = "DEBUG = True"


def boom(request):
    raise RuntimeError("secret internals that must not leak")


def suspicious(request):
    raise SuspiciousOperation("a forged header")


urlpatterns = [
    path("dashboard-boom/", boom),
    path("dashboard-suspicious/", suspicious),
    path("", include("portal.urls")),
]


def _page(response, status: int) -> str:
    assert response.status_code == status
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert DJANGO_DEBUG_PAGE not in html and "Traceback" not in html
    assert '<link rel="stylesheet" href="/static/portal.css">' in html
    return html


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize("path", ["/no-such-page/", "/orgs/acme/no-such-tab/"])
def test_a_missing_page_is_the_portals_404(login, owner, settings, debug, path):
    settings.DEBUG = debug
    html = _page(login(owner).get(path), 404)
    assert "Page not found" in html and "Error 404" in html
    assert owner.email in html  # the page keeps the signed-in header


@pytest.mark.parametrize("debug", [False, True])
def test_another_organizations_application_is_the_portals_404(login, owner, other_app, settings, debug):
    settings.DEBUG = debug
    html = _page(login(owner).get(f"/orgs/globex/apps/{other_app.pk}/"), 404)
    assert "Page not found" in html and other_app.name not in html


@pytest.mark.parametrize("debug", [False, True])
def test_a_role_too_low_is_the_portals_403(login, viewer, app, settings, debug):
    settings.DEBUG = debug
    html = _page(login(viewer).get(f"/orgs/acme/apps/{app.pk}/delete/"), 403)
    assert "Not allowed" in html and "Error 403" in html


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.urls("tests.portal.test_error_pages")
def test_an_error_is_the_portals_500_and_its_traceback_goes_to_the_log(owner, settings, caplog, debug):
    settings.DEBUG = debug
    client = Client(raise_request_exception=False)
    client.force_login(owner)
    with caplog.at_level(logging.ERROR, logger="django.request"):
        html = _page(client.get("/dashboard-boom/"), 500)
    assert "Something went wrong" in html and "secret internals" not in html
    assert any(record.exc_info and "secret internals" in str(record.exc_info[1]) for record in caplog.records)


@pytest.mark.urls("tests.portal.test_error_pages")
def test_with_debug_on_the_test_client_still_sees_the_exception(login, owner, settings):
    settings.DEBUG = True
    with pytest.raises(RuntimeError, match="secret internals"):
        login(owner).get("/dashboard-boom/")


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.urls("tests.portal.test_error_pages")
def test_a_suspicious_request_is_the_portals_400(client, settings, debug):
    settings.DEBUG = debug
    html = _page(client.get("/dashboard-suspicious/"), 400)
    assert "The request could not be used" in html and "forged" not in html


def test_with_debug_on_a_missing_slash_still_redirects(login, owner, settings):
    settings.DEBUG = True
    response = login(owner).get("/orgs/acme/members")
    assert response.status_code == 301 and response["Location"] == "/orgs/acme/members/"


def test_with_debug_on_the_api_keeps_its_json_404(client, settings):
    settings.DEBUG = True
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.json() == {"error": "Not found", "code": "NOT_FOUND"}

