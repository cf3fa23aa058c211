"""Allowed IP ranges are taken as written or refused, never quietly changed: ``10.0.0.1/8`` is not ``10.0.0.0/8``.

The same check, with the same message, in the API, the dashboard, the admin and ``issue_api_key``."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse

from apikeys.models import ApiKey
from apikeys.validators import ip_range

pytestmark = pytest.mark.django_db

# (what was typed, the network it would have been)
HOST_BITS = [("10.0.0.1/8", "10.0.0.0/8"), ("192.168.1.77/24", "192.168.1.0/24"),
             ("2001:db8::1/32", "2001:db8::/32")]


def hint(typed: str, network: str) -> str:
    return f"'{typed}' has host bits set: did you mean {network}?"


@pytest.mark.parametrize(("typed", "canonical"), [
    ("10.0.0.0/8", "10.0.0.0/8"), (" 203.0.113.7 ", "203.0.113.7/32"), ("2001:DB8::/32", "2001:db8::/32"),
    ("10.0.0.0/255.0.0.0", "10.0.0.0/8"), ("::1", "::1/128"),
])
def test_a_network_or_an_address_is_taken_in_canonical_form(typed, canonical):
    assert ip_range(typed) == canonical


@pytest.mark.parametrize(("typed", "network"), HOST_BITS)
def test_a_range_with_host_bits_set_is_refused_naming_its_network(typed, network):
    with pytest.raises(ValidationError) as refused:
        ip_range(typed)
    assert refused.value.messages == [hint(typed, network)]


@pytest.mark.parametrize("typed", ["10.0.0.0/33", "not-an-ip", "10.0.0.0/8/8", ""])
def test_what_is_no_range_at_all_is_refused(typed):
    with pytest.raises(ValidationError, match="is not an IP address or CIDR range"):
        ip_range(typed)


@pytest.mark.parametrize(("typed", "network"), HOST_BITS)
def test_the_api_refuses_host_bits(client_a, app, typed, network):
    response = client_a.post("/api/v1/api-keys", {"name": "k", "applicationId": app.pk, "scopePreset": "READ_ONLY",
                                                  "expiresInDays": 30, "allowedIps": ["203.0.113.0/24", typed]},
                             format="json")

    assert response.status_code == 400, response.content
    assert response.json()["details"] == {"allowedIps": [hint(typed, network)]}
    assert not ApiKey.objects.filter(name="k").exists()


def test_the_dashboard_key_form_refuses_host_bits(login, developer, org, app):
    form = {"name": "CI", "scope_preset": "READ_ONLY", "expires_in_days": "30", "environment": "test",
            "rate_limit_per_minute": "", "allowed_ips": "203.0.113.7\n10.0.0.1/8"}

    response = login(developer).post(reverse("key-create", args=[org.slug, app.pk]), form)

    assert response.status_code == 400
    assert response.context["form"].errors["allowed_ips"] == [hint("10.0.0.1/8", "10.0.0.0/8")]
    assert hint("10.0.0.1/8", "10.0.0.0/8").replace("'", "&#x27;") in response.content.decode()
    assert not ApiKey.objects.exists()


def test_the_admin_refuses_host_bits(staff_client, app):
    form = {"application": app.pk, "name": "Staff key", "scope_preset": "READ_ONLY", "expires_in_days": "30",
            "environment": "live", "allowed_ips": "2001:db8::1/32", "rate_limit_per_minute": ""}

    response = staff_client.post(reverse("admin:apikeys_apikey_add"), form)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["allowed_ips"] == [hint("2001:db8::1/32", "2001:db8::/32")]
    assert not ApiKey.objects.exists()


def test_issue_api_key_refuses_host_bits(org):
    with pytest.raises(CommandError, match=r"did you mean 10\.0\.0\.0/8\?"):
        call_command("issue_api_key", "--org", org.slug, "--name", "ci", "--preset", "READ_ONLY",
                     "--allowed-ip", "10.0.0.1/8", stdout=StringIO())
    assert not ApiKey.objects.exists()


def test_issue_api_key_takes_a_network(org):
    out = StringIO()
    call_command("issue_api_key", "--org", org.slug, "--name", "ci", "--preset", "READ_ONLY",
                 "--allowed-ip", "10.0.0.0/8", "--allowed-ip", "203.0.113.7", stdout=out)

    assert ApiKey.objects.get().allowed_ips == ["10.0.0.0/8", "203.0.113.7/32"]
