from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"

    def ready(self) -> None:
        # Registered in every process (web too), so that portal.mail may enqueue its job by name (portal.outboxes).
        from portal import tasks  # noqa: F401
        from portal.api.observe import register_observer
        from portal.events import observe_rate_limited
        from portal.ratelimit import check_rate_settings
        from portal.scrub import install_on_server_loggers

        check_rate_settings()
        install_on_server_loggers()
        register_observer(observe_rate_limited)  # a credential's 429 is the event rate_limit.exceeded
