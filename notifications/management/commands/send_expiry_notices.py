"""``manage.py send_expiry_notices``: the expiry job at once, and its mails sent before the command ends."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from notifications.expiry import expiry_notices_run
from portal.mail import send_pending_mail


class Command(BaseCommand):
    help = "Notice API keys that expire in 7 days, in 1 day, or have expired (each notice once), and send the mails."

    def handle(self, *args, **options) -> None:
        queued = expiry_notices_run()
        # Not a request: the command may send what it queued itself rather than wait for the worker (a row the
        # worker took first is skipped, so nothing goes twice).
        sent = sum(1 for mail_id in queued if send_pending_mail(mail_id))
        self.stdout.write(f"notices: {len(queued)}")
        self.stdout.write(f"sent: {sent}")
