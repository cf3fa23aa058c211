from __future__ import annotations

from django.apps import AppConfig


class PoliciesConfig(AppConfig):
    """An organization's credential policy (contract section 19) and its pure rules. It sits just above
    ``accounts`` and imports no credential app: ``apikeys`` and ``oauthapps`` call its rules."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "policies"
    verbose_name = "Credential policies"
