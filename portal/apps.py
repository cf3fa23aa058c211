from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"

    def ready(self) -> None:
        from portal.ratelimit import check_rate_settings

        check_rate_settings()
