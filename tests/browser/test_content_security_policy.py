"""Pages that the other browser tests do not open, under the Content-Security-Policy: the API docs (Swagger UI
from the portal's static files) and the admin. ``new_page`` fails a test whose pages report a violation."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_api_docs_render_every_endpoint_under_the_policy(page) -> None:
    response = page.goto("/api/docs")
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    expect(page.get_by_role("heading", name="Developer Portal API")).to_be_visible()
    expect(page.get_by_text("/api/v1/hello").first).to_be_visible()
    page.get_by_text("/api/v1/hello").first.click()  # an operation opens (Swagger UI's own scripts and styles)
    expect(page.get_by_role("button", name="Try it out").first).to_be_visible()


def test_admin_pages_work_under_the_policy(new_page) -> None:
    staff = UserFactory(email="staff@example.com", is_staff=True, is_superuser=True)
    page = new_page(user=staff)
    page.goto("/admin/")
    expect(page.get_by_role("heading", name="Site administration")).to_be_visible()
    page.goto("/admin/oauthapps/oauthclient/add/")
    expect(page.locator("#content h1")).to_be_visible()
    page.goto("/admin/oauthapps/oauthclient/")
    expect(page.locator("#changelist")).to_be_visible()
