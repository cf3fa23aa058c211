from django.apps import AppConfig


class UsageConfig(AppConfig):
    name = "usage"
    verbose_name = "Usage and request log"

    def ready(self) -> None:
        from portal.api.observe import register_observer
        from usage.recorder import recorder

        register_observer(recorder.observe)
