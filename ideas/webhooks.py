"""Signed webhooks for new ideas, status changes and new comments.

Each delivery is a JSON POST with ``X-Cocreate-Event``, ``X-Cocreate-Timestamp`` and
``X-Cocreate-Signature: sha256=<hex HMAC of "<timestamp>.<body>" with the endpoint's secret>``. Receivers
recompute the HMAC and reject stale timestamps.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from django.db import transaction


def webhook_signature(*, secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def webhook_queue(*, event: str, payload: dict[str, Any]) -> None:
    """After commit, queue one delivery per active endpoint subscribed to ``event``."""
    from ideas.models import WebhookEndpoint

    def dispatch() -> None:
        from ideas.tasks import deliver_webhook

        body = json.dumps({"event": event, "data": payload}, sort_keys=True)
        for endpoint in WebhookEndpoint.objects.filter(active=True):
            if event in endpoint.events:
                deliver_webhook.delay(endpoint_id=endpoint.pk, event=event, body=body)

    transaction.on_commit(dispatch)
