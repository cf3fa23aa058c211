from django.apps import AppConfig


class DashboardConfig(AppConfig):
    """The top floor: pages that read several features at once. No models; nothing imports it."""

    name = "dashboard"
    verbose_name = "Dashboard"
