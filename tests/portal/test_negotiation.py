"""The response's format: JSON for the usual Accept headers (found without DRF's parse), DRF's rules for the rest."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("accept", [None, "*/*", "application/json"])
def test_the_usual_accept_headers_get_json(client_a, accept):
    headers = {} if accept is None else {"HTTP_ACCEPT": accept}
    response = client_a.get("/api/v1/hello", **headers)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"message": "Hello World!"}


def test_json_with_a_quality_and_another_type_still_gets_json(client_a):
    response = client_a.get("/api/v1/hello", HTTP_ACCEPT="text/csv;q=0.5, application/json;q=0.9")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"


def test_a_format_nobody_serves_is_a_406_in_the_api_format(client_a):
    response = client_a.get("/api/v1/hello", HTTP_ACCEPT="application/xml")
    assert response.status_code == 406
    assert set(response.json()) == {"error", "code"}


def test_the_format_parameter_still_chooses(client_a):
    response = client_a.get("/api/v1/hello?format=api", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")  # DRF's browsable API, asked for by name
