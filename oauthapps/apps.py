from django.apps import AppConfig


class OAuthAppsConfig(AppConfig):
    name = "oauthapps"
    verbose_name = "OAuth clients"

    def ready(self) -> None:
        from oauthapps import signals  # noqa: F401  (credential cache receivers)
