from __future__ import annotations

from django.apps import AppConfig


class SecurityConfig(AppConfig):
    """Least privilege on top of the credential apps (contract section 19): the policy's API and page, its
    violations, the unused-key job, what each credential's scopes were used for, and narrowing a key. It may
    import ``apikeys``, ``oauthapps`` and ``usage``; none of them imports it."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "security"
    verbose_name = "Least privilege"

    def ready(self) -> None:
        from django.conf import settings

        from security.scope_usage import store_scope_usage
        from usage.recorder import recorder

        # The usage recorder gathers each call's required scope beside its counts and hands them here on flush.
        recorder.scope_writer = store_scope_usage
        recorder.record_scopes = getattr(settings, "PORTAL_SCOPE_USAGE", True)  # off: bench/scope_usage_bench.py
