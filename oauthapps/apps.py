from __future__ import annotations

from typing import Any

from django.apps import AppConfig


class OAuthAppsConfig(AppConfig):
    name = "oauthapps"
    verbose_name = "OAuth clients"

    def ready(self) -> None:
        from oauthapps import signals  # noqa: F401  (credential cache receivers)

    def current_signing_jwk(self) -> Any:
        """The key that signs ID tokens now (``OAuthClient.jwk_key``, where DOT looks for it)."""
        from oauthapps.signing_keys import current_signing_key

        return current_signing_key().jwk
