"""The mails that apps below notifications ask for by a signal (they must not import it)."""

from __future__ import annotations

from django.dispatch import receiver

from accounts.events import invitation_mailing
from notifications.services import invitation_mail_queue


@receiver(invitation_mailing)
def queue_invitation_mail(sender, organization, email: str, role: str, inviter: str, url: str, ttl_days: int,
                          **kwargs) -> None:
    """The invitation's mail, queued in the transaction that made the invitation."""
    invitation_mail_queue(organization=organization, email=email, role=role, inviter=inviter, url=url,
                          ttl_days=ttl_days)
