"""``send_pending_mail``: send every mail that could not be sent when its change committed (``portal.mail``)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from portal.mail import send_all_pending_mail


class Command(BaseCommand):
    help = "Send the mails that failed when they were first sent; each is deleted once sent. Safe to run often."

    def handle(self, *args: Any, **options: Any) -> None:
        sent, pending = send_all_pending_mail()
        self.stdout.write(f"sent: {sent}")
        self.stdout.write(f"pending: {pending}")
