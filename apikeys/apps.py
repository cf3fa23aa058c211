from django.apps import AppConfig


class ApiKeysConfig(AppConfig):
    name = "apikeys"
    verbose_name = "API keys"

    def ready(self) -> None:
        from apikeys import signals  # noqa: F401  (credential cache receivers)
