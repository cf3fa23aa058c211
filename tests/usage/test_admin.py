"""Usage per organization in the admin (section 9), read-only."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_staff_see_each_organizations_usage(staff_client, app, other_app, make_key, api_client, flush_usage):
    _, plaintext = make_key(app, "READ_ONLY")
    _, other = make_key(other_app, "READ_ONLY")
    for _ in range(3):
        api_client(plaintext).get("/api/v1/hello")
    api_client(other).get("/api/v1/nope-not-here")  # unknown path: no credential is checked, not counted
    api_client(other).get("/api/v1/api-keys/unknown")  # 404 with a credential: a client error
    flush_usage()

    page = staff_client.get("/admin/usage/organizationusage/")
    assert page.status_code == 200
    html = page.content.decode()
    rows = {name: html.index(name) for name in ("Acme", "Globex")}
    assert rows["Acme"] < rows["Globex"]  # the busiest first
    detail = staff_client.get(f"/admin/usage/organizationusage/{app.organization_id}/change/").content.decode()
    assert "<td>3</td><td>3</td><td>0</td><td>0</td><td>0</td>" in detail
    other_detail = staff_client.get(f"/admin/usage/organizationusage/{other_app.organization_id}/change/")
    assert "<td>1</td><td>0</td><td>1</td><td>0</td><td>0</td>" in other_detail.content.decode()


def test_usage_cannot_be_added_changed_or_deleted(staff_client, org):
    assert staff_client.get("/admin/usage/organizationusage/add/").status_code == 403
    assert staff_client.post(f"/admin/usage/organizationusage/{org.pk}/delete/").status_code == 403
