from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from portal.events import event_published

        # Registered in every process, so that the services may enqueue its jobs by name (portal.outboxes).
        from webhooks import tasks  # noqa: F401
        from webhooks.outbox import record_event

        # The event row is written in the publishing service's own transaction (portal.events, webhooks.outbox).
        event_published.connect(record_event, dispatch_uid="webhooks.record_event")
