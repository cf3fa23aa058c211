"""The unused-key job (every 10 minutes, and ``manage.py revoke_unused_keys``): in each organization whose policy
sets ``revokeUnusedKeysAfterDays``, a key not used for that long (a key never used counts from its creation) is
revoked, audited as ``api_key.revoked`` with reason ``unused`` and announced by the ``api_key.revoked`` webhook
(both by ``api_key_revoke``); 7 days before, its maker and the owners are mailed, once.

Idempotent, as every job: a notice is a row unique per key and idle stretch, written in the transaction that
queues the mail, and a revocation locks the key and does nothing to a revoked one. Rotated keys (in their grace
period) and expired ones are left alone.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from apikeys.models import ApiKey
from apikeys.services import api_key_revoke
from notifications.services import absolute, email_queue, organization_managers
from policies.models import CredentialPolicy
from portal.callers import Caller
from security.models import UnusedKeyNotice

logger = logging.getLogger(__name__)

NOTICE_DAYS = 7
REASON = "unused"


def _recipients(key: ApiKey) -> list[str]:
    people = organization_managers(key.organization_id, roles=("owner",))
    maker = key.created_by  # read with the key (select_related)
    if maker is not None and maker.pk not in {p.pk for p in people} and \
            key.organization.memberships.filter(user_id=maker.pk).exists():
        people.insert(0, maker)  # its maker, while still a member
    return [person.email for person in people if person.is_active]


def _notice(key: ApiKey, idle_since: datetime, revoke_after: datetime) -> int | None:
    with transaction.atomic():
        try:
            with transaction.atomic():
                UnusedKeyNotice.objects.create(api_key=key, idle_since=idle_since, revoke_after=revoke_after)
        except IntegrityError:
            return None  # told already (another run, or an earlier one)
        page = absolute(reverse("key-detail", args=[key.organization.slug, key.public_id]))
        email = email_queue(
            kind="key_unused", to=_recipients(key),
            subject=f"API key {key.name} of {key.organization.name} will be revoked: unused",
            template="key_unused",
            context={"key": key, "organization": key.organization, "idle_since": idle_since,
                     "revoke_after": revoke_after, "url": page},
        )
        return email.pk if email else None


def unused_keys_run(now: datetime | None = None) -> dict[str, int]:
    """Notice and revoke as if it were ``now``. Returns ``{"noticed": n, "revoked": n}``."""
    now = now or timezone.now()
    done = {"noticed": 0, "revoked": 0}
    policies = CredentialPolicy.objects.filter(revoke_unused_keys_after_days__isnull=False).select_related(
        "organization")
    for policy in policies:
        organization = policy.organization
        assert policy.revoke_unused_keys_after_days is not None  # filtered on above
        days = timedelta(days=policy.revoke_unused_keys_after_days)
        keys = (ApiKey.objects.filter(organization=organization, revoked_at__isnull=True, rotated_at__isnull=True)
                .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
                .annotate(idle_since=Coalesce(F("last_used_at"), F("created_at")))
                .filter(idle_since__lte=now - days + timedelta(days=NOTICE_DAYS))
                .select_related("organization", "created_by"))
        caller = Caller.system(organization)
        for key in keys.iterator(chunk_size=200):
            revoke_after = key.idle_since + days
            if revoke_after <= now:
                with transaction.atomic():
                    locked = ApiKey.objects.select_for_update().get(pk=key.pk)
                    idle_since = locked.last_used_at or locked.created_at
                    if locked.revoked_at is None and idle_since + days <= now:  # not used since it was read
                        api_key_revoke(caller=caller, key=locked, reason=REASON)
                        done["revoked"] += 1
            elif _notice(key, key.idle_since, revoke_after) is not None:
                done["noticed"] += 1
    if done["noticed"] or done["revoked"]:
        logger.info("Unused keys: %(noticed)s noticed, %(revoked)s revoked", done)
    return done
