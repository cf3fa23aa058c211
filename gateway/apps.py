from django.apps import AppConfig


class GatewayConfig(AppConfig):
    """Resource servers, introspection of every credential for them, and forward authentication for gateways
    (section 18 of the contract). Sits above apikeys, oauthapps, usage and audit; nothing below imports it."""

    name = "gateway"
    verbose_name = "Services and gateways"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from gateway import signals  # noqa: F401  (credential cache receivers)
