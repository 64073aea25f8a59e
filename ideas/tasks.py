"""Celery adapters for the ideas app; the work is in services."""

from __future__ import annotations

import time
import urllib.request

from cocreate.celery import app
from ideas import services
from ideas.webhooks import webhook_signature


@app.task(acks_late=True)
def expire_ideas() -> int:
    """Expire ideas whose deadline has passed (idempotent; beat runs it every few minutes)."""
    return len(services.ideas_expire())


@app.task
def refresh_trending() -> int:
    return services.trending_refresh()


@app.task
def send_digests(*, period: str) -> int:
    return services.digests_send(period=period)


@app.task(autoretry_for=(OSError,), retry_backoff=10, retry_backoff_max=3600, max_retries=6, acks_late=True)
def deliver_webhook(*, endpoint_id: int, event: str, body: str) -> int:
    """POST one signed event; network errors and 5xx answers are retried with backoff."""
    from ideas.models import WebhookEndpoint

    endpoint = WebhookEndpoint.objects.filter(pk=endpoint_id, active=True).first()
    if endpoint is None or not endpoint.url.startswith(("https://", "http://")):
        return 0
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
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return int(response.status)
    except urllib.error.HTTPError as exc:
        if exc.code >= 500:
            raise OSError(f"webhook answered {exc.code}") from exc
        return exc.code
