from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from portal.events import event_published
        from webhooks.services import record_event

        # Outbox rows are written by the publishing service's own transaction (portal.events).
        event_published.connect(record_event, dispatch_uid="webhooks.record_event")
