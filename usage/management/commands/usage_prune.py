from __future__ import annotations

from django.core.management.base import BaseCommand

from usage.services import usage_prune


class Command(BaseCommand):
    help = "Delete usage buckets and request log rows older than they are kept (what the scheduler runs nightly)."

    def handle(self, *args, **options) -> None:
        for kind, count in usage_prune().items():
            self.stdout.write(f"{kind}: {count}")
