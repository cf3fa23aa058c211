from __future__ import annotations

from django.core.management.base import BaseCommand

from usage.services import usage_rollup


class Command(BaseCommand):
    help = "Move the usage counts gathered in Redis into the database (what the scheduler runs every minute)."

    def handle(self, *args, **options) -> None:
        self.stdout.write(f"minutes: {usage_rollup()}")
