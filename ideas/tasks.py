"""Celery adapters for the ideas app; the work is in services."""

from __future__ import annotations

from celery import Task

from cocreate import outbox
from cocreate.celery import app
from ideas import services
from ideas.webhooks import WebhookRetryError, webhook_deliver


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


@app.task(
    bind=True,
    autoretry_for=(WebhookRetryError,),
    retry_backoff=10,
    # Below OUTBOX_REDELIVER_AFTER (600 s): each attempt marks its outbox row, so the flush publishes a delivery
    # again only when its retry chain was lost (a broker restart), never while a retry is waiting.
    retry_backoff_max=300,
    max_retries=6,
    acks_late=True,
)
def deliver_webhook(self: Task, *, endpoint_id: int, event: str, body: str, outbox_id: int | None = None) -> int:
    """POST one signed event; network errors and 5xx answers are retried with backoff. Each attempt is logged."""
    from ideas.models import WebhookEndpoint

    outbox.outbox_attempt(row_id=outbox_id)
    endpoint = WebhookEndpoint.objects.filter(pk=endpoint_id, active=True).first()
    if endpoint is None or not endpoint.url.startswith(("https://", "http://")):
        outbox.outbox_done(row_id=outbox_id)
        return 0
    try:
        delivery = webhook_deliver(endpoint=endpoint, event=event, body=body, attempt=self.request.retries + 1)
    except WebhookRetryError:
        if self.request.retries >= (self.max_retries or 0):
            outbox.outbox_done(row_id=outbox_id)  # the last attempt: it stays in the delivery log, not the outbox
        raise
    outbox.outbox_done(row_id=outbox_id)
    return delivery.status_code or 0
