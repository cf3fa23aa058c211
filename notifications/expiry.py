"""The expiry job (every 10 minutes, and ``manage.py send_expiry_notices``): a key expires in 7 days, in
1 day, has expired.

Each key gets each window's notice once (an ``ExpiryNotice`` row, unique per key and window, written in the
transaction that queues the mail and publishes the webhook event: a second run finds the row and does
nothing). A key is noticed only for the window it is in now, so a key made with 3 days to live gets the
7-day notice and later the 1-day one, and a key made with 1 day gets only the 1-day one. Rotated keys (they
expire at the end of their grace period, on purpose) and revoked ones are left alone; keys that expired more
than a week ago are history, not news.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from apikeys.models import ApiKey
from notifications.models import ExpiryNotice
from notifications.services import absolute, email_queue, organization_managers, people_wanting
from portal import events

logger = logging.getLogger(__name__)

EXPIRED_NEWS_DAYS = 7


def _windows(now) -> list[tuple[str, object, object]]:
    """(stage, after, until): a key whose ``expires_at`` is in ``(after, until]`` is in that window."""
    return [
        (ExpiryNotice.Stage.EXPIRED, now - timedelta(days=EXPIRED_NEWS_DAYS), now),
        (ExpiryNotice.Stage.ONE_DAY, now, now + timedelta(days=1)),
        (ExpiryNotice.Stage.SEVEN_DAYS, now + timedelta(days=1), now + timedelta(days=7)),
    ]


def _recipients(key: ApiKey) -> list[str]:
    people = organization_managers(key.organization_id)
    if key.created_by_id and key.created_by_id not in {p.pk for p in people} and \
            key.organization.memberships.filter(user_id=key.created_by_id).exists():
        maker = key.created_by
        if maker is not None:
            people.insert(0, maker)  # its maker, while still a member
    return [person.email for person in people_wanting(people, "key_expiry")]


def _notice(key: ApiKey, stage: str) -> int | None:
    from apikeys.api.serializers import ApiKeyOutput

    with transaction.atomic():
        try:
            with transaction.atomic():
                ExpiryNotice.objects.create(api_key=key, stage=stage)
        except IntegrityError:
            return None  # another run noticed it first
        expired = stage == ExpiryNotice.Stage.EXPIRED
        events.publish(key.organization_id, "api_key.expired" if expired else "api_key.expiring",
                       lambda: dict(ApiKeyOutput(key).data))
        when = "has expired" if expired else ("expires in 1 day" if stage == "1d" else "expires in 7 days")
        page = absolute(reverse("app-detail", args=[key.organization.slug, key.application_id]))
        email = email_queue(
            kind=f"key_expiry.{stage}", to=_recipients(key),
            subject=f"API key {key.name} of {key.organization.name} {when}", template="key_expiry",
            context={"key": key, "organization": key.organization, "when": when, "expired": expired, "url": page},
        )
        return email.pk if email else None


def expiry_notices_run(now=None) -> list[int]:
    """Notice every key that entered a window since the last run. Returns the ids of the mails queued."""
    now = now or timezone.now()
    queued: list[int] = []
    for stage, after, until in _windows(now):
        keys = (ApiKey.objects.filter(expires_at__gt=after, expires_at__lte=until, revoked_at__isnull=True,
                                      rotated_at__isnull=True)
                .exclude(expiry_notices__stage=stage)
                .select_related("organization", "created_by", "application"))
        for key in keys.iterator(chunk_size=200):
            email_id = _notice(key, stage)
            if email_id is not None:
                queued.append(email_id)
    if queued:
        logger.info("Expiry notices queued: %s", len(queued))
    return queued
