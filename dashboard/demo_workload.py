"""What the demo organization holds beside its people (contract section 10), so every page of the quick start shows
something: an application with a ``test`` key, some usage in its charts and request log, and a webhook endpoint that
is turned off (nothing is ever sent from a demo).

Each part is made only when missing, so ``seed_demo`` run twice adds nothing. The key's secret is never printed (the
quick start's own button makes a key to call the API with); usage is written straight to the database, as the
roll-up job writes it, from a fixed seed so that two fresh demos look the same.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable

from django.db import transaction

from accounts.selectors import OrgAccess
from apikeys.models import ApiKey
from apikeys.services import api_key_create
from applications.models import Application
from applications.services import application_create
from usage.models import RequestLog, UsageCount
from usage.store import Bucket, roll_up, write_counts, write_logs
from webhooks.models import WebhookEndpoint
from webhooks.services import webhook_endpoint_create

DEMO_APP_NAME = "Weather dashboard"
DEMO_KEY_NAME = "Demo test key"
# A reserved name (RFC 2606): it never resolves, so the endpoint could not reach anyone even if turned on.
DEMO_WEBHOOK_URL = "https://hooks.demo.example/portal-events"
DEMO_PATHS = ("/api/v1/hello", "/api/v1/me", "/api/v1/applications", "/api/v1/api-keys", "/api/v1/usage")
DAYS = 30


@transaction.atomic
def seed_workload(access: OrgAccess, say: Callable[[str], None]) -> None:
    organization, caller = access.organization, access.caller
    application = Application.objects.filter(organization=organization, name=DEMO_APP_NAME).first()
    if application is None:
        application = application_create(caller=caller, name=DEMO_APP_NAME,
                                         description="A demo integration that reads the forecast API.")
        say(f"Created the application {DEMO_APP_NAME!r}.")

    key = ApiKey.objects.filter(application=application, name=DEMO_KEY_NAME).first()
    if key is None:
        key, _plaintext = api_key_create(caller=caller, application=application, name=DEMO_KEY_NAME,
                                         scope_preset="READ_ONLY", environment=ApiKey.Environment.TEST,
                                         expires_in_days=365)
        say(f"Created the test key {DEMO_KEY_NAME!r} ({key.public_id}); its secret is not shown: make your own "
            "key from the dashboard to call the API.")

    if not UsageCount.objects.filter(api_key=key).exists():
        _write_usage(organization.pk, application.pk, key.pk)
        say(f"Recorded {DAYS} days of demo usage for {DEMO_KEY_NAME!r}.")

    if not WebhookEndpoint.objects.filter(organization=organization, url=DEMO_WEBHOOK_URL).exists():
        webhook_endpoint_create(caller=caller, url=DEMO_WEBHOOK_URL, description="Demo endpoint (turned off)",
                                event_types=["api_key.created", "api_key.revoked"], enabled=False)
        say("Created a webhook endpoint, turned off.")


def _write_usage(organization_id: int, application_id: int, key_pk: int) -> None:
    """Hourly counts for the last 30 days (busier in the last day) and a page of request-log rows."""
    rng = random.Random(42)  # noqa: S311 (demo figures, not a secret)
    now = int(time.time()) // 60 * 60
    counts: dict[Bucket, list[int]] = {}
    for minutes_ago in range(60, DAYS * 24 * 60, 60):
        requests = rng.randint(5, 40) if minutes_ago > 24 * 60 else rng.randint(20, 90)
        client_errors = rng.randint(0, requests // 8)
        rate_limited = rng.randint(0, 3) if rng.random() < 0.1 else 0
        server_errors = 1 if rng.random() < 0.03 else 0
        success = requests - client_errors - rate_limited - server_errors
        counts[(organization_id, application_id, key_pk, None, now - minutes_ago * 60)] = [
            success, client_errors, rate_limited, server_errors]
    write_counts(roll_up(counts))

    entries = []
    for index in range(40):
        status = rng.choice((200, 200, 200, 200, 200, 400, 404, 429))
        entries.append((f"demo-{uuid.UUID(int=rng.getrandbits(128))}", now - index * 97 - 30, organization_id,
                        key_pk, None, "GET", rng.choice(DEMO_PATHS), status, round(rng.uniform(2, 40), 2),
                        "203.0.113.10", "demo-cli/1.0", None))  # no resource server: the portal's own API
    if not RequestLog.objects.filter(api_key_id=key_pk).exists():
        write_logs(entries)
