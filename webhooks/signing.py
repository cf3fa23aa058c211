"""Webhook secrets and signatures. The signature itself is the ``standardwebhooks`` package's, never ours."""

from __future__ import annotations

import base64
import json
import secrets
from datetime import datetime
from typing import Any

from standardwebhooks import Webhook

SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    """``whsec_`` + base64 of 32 random bytes, as Standard Webhooks writes it."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def new_event_id() -> str:
    return "msg_" + secrets.token_urlsafe(18)


def body(event_type: str, occurred_at: datetime, data: dict[str, Any]) -> str:
    """The delivery's JSON: the same bytes on every retry of one event."""
    timestamp = occurred_at.isoformat().replace("+00:00", "Z")
    return json.dumps({"type": event_type, "timestamp": timestamp, "data": data}, separators=(",", ":"))


def headers(*, event_id: str, sent_at: datetime, payload: str, signing_secrets: list[str]) -> dict[str, str]:
    """Standard Webhooks headers; one ``v1,...`` signature per secret, space-separated (two after a rotation)."""
    signatures = [Webhook(secret).sign(msg_id=event_id, timestamp=sent_at, data=payload)
                  for secret in signing_secrets]
    return {
        "webhook-id": event_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": " ".join(signatures),
        "content-type": "application/json",
        "user-agent": "developer-portal-webhooks/1",
    }
