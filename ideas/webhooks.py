"""Signed webhooks for new ideas, status changes and new comments.

Each delivery is a JSON POST with ``X-Cocreate-Event``, ``X-Cocreate-Timestamp`` and
``X-Cocreate-Signature: sha256=<hex HMAC of "<timestamp>.<body>" with the endpoint's secret>``. Receivers
recompute the HMAC and reject stale timestamps.

Every attempt, answered or not, is recorded as a ``WebhookDelivery`` that staff read in the Wagtail admin.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ideas.models import WebhookDelivery, WebhookEndpoint

TIMEOUT_SECONDS = 10
ERROR_MAX = 1_000


class WebhookRetryError(OSError):
    """The receiver could not be reached or answered 5xx: worth another attempt later."""


def webhook_signature(*, secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def webhook_queue(*, event: str, payload: dict[str, Any]) -> None:
    """Queue one delivery per active endpoint subscribed to ``event``, in the caller's transaction (through the
    outbox, so a broker outage delays a delivery but never loses it), published after commit."""
    from cocreate.outbox import task_enqueue_on_commit
    from ideas.models import WebhookEndpoint
    from ideas.tasks import deliver_webhook

    body = json.dumps({"event": event, "data": payload}, sort_keys=True)
    for endpoint in WebhookEndpoint.objects.filter(active=True):
        if event in endpoint.events:
            task_enqueue_on_commit(
                task=deliver_webhook, kwargs={"endpoint_id": endpoint.pk, "event": event, "body": body}
            )


def webhook_deliver(*, endpoint: WebhookEndpoint, event: str, body: str, attempt: int) -> WebhookDelivery:
    """POST one signed event to ``endpoint`` and record the attempt (status, duration, error).

    Returns the recorded delivery; raises ``WebhookRetryError`` after recording when the failure is worth retrying
    (network errors, timeouts, 5xx). A 4xx answer is recorded as a failure and not retried. Call it outside a
    transaction so that the record stays even when the caller retries."""
    from ideas.models import WebhookDelivery

    if not endpoint.url.startswith(("https://", "http://")):
        raise ValueError("webhook URLs are http(s) only")
    timestamp = str(int(time.time()))
    data = body.encode()
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
        endpoint.url,
        data=data,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "X-Cocreate-Event": event,
            "X-Cocreate-Timestamp": timestamp,
            "X-Cocreate-Signature": webhook_signature(secret=endpoint.secret, timestamp=timestamp, body=data),
        },
    )
    status_code: int | None = None
    error = ""
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            status_code = int(response.status)
    except urllib.error.HTTPError as exc:
        status_code = exc.code
        error = f"HTTP {exc.code} {exc.reason}"
    except OSError as exc:  # URLError, refused connections and timeouts are all OSErrors
        error = f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"
    duration_ms = round((time.monotonic() - started) * 1000)
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint,
        url=endpoint.url,
        event=event,
        attempt=attempt,
        status_code=status_code,
        succeeded=status_code is not None and 200 <= status_code < 300,
        duration_ms=duration_ms,
        error=error[:ERROR_MAX],
    )
    if status_code is None or status_code >= 500:
        raise WebhookRetryError(error)
    return delivery
