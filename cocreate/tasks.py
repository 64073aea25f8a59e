from __future__ import annotations

from celery import Task
from celery.signals import worker_ready
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.core.mail import EmailMultiAlternatives
from django.utils import timezone

from cocreate import outbox
from cocreate.celery import app

HEARTBEAT_KEY = "celery-heartbeat"
EMAIL_CLAIM_SECONDS = 60


@app.task(
    bind=True,
    autoretry_for=(OSError,),
    retry_backoff=5,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=8,
    acks_late=True,
)
def send_email(
    self: Task,
    *,
    to: list[str],
    subject: str,
    text: str,
    html: str = "",
    idempotency_key: str = "",
    outbox_id: int | None = None,
) -> bool:
    """Send one e-mail. With an ``idempotency_key``, a retried or duplicated task sends it once only.

    Returns False when the key shows the message was already sent. The key is marked sent only after the
    message left, so a worker killed mid-send leaves it unmarked and the redelivered task sends it: at least
    once, and twice only if the kill falls between the send and the mark. A short claim keeps two deliveries
    of the same task from sending at the same moment; the second retries later and then finds the mark.
    """
    sent_key, claim_key = f"email-sent:{idempotency_key}", f"email-sending:{idempotency_key}"
    if idempotency_key:
        if cache.get(sent_key):
            outbox.outbox_done(row_id=outbox_id)
            return False
        if not cache.add(claim_key, 1, timeout=EMAIL_CLAIM_SECONDS):
            raise self.retry(countdown=EMAIL_CLAIM_SECONDS)
    message = EmailMultiAlternatives(subject=subject, body=text, from_email=settings.DEFAULT_FROM_EMAIL, to=to)
    if html:
        message.attach_alternative(html, "text/html")
    try:
        message.send()
    except OSError:
        if idempotency_key:
            cache.delete(claim_key)
        raise
    if idempotency_key:
        cache.set(sent_key, 1, timeout=7 * 24 * 3600)
        cache.delete(claim_key)
    outbox.outbox_done(row_id=outbox_id)
    return True


@app.task
def heartbeat() -> str:
    """Proves beat and a worker are alive: /healthz reads the time it last ran."""
    stamp = timezone.now().isoformat()
    cache.set(HEARTBEAT_KEY, stamp, timeout=3600)
    return stamp


@worker_ready.connect
def heartbeat_on_start(**kwargs: object) -> None:
    """A restarted worker reports itself at once, not only at the scheduler's next beat."""
    heartbeat.delay()


@app.task
def outbox_flush() -> int:
    """Publish again the outbox tasks the broker never got or lost (cocreate/outbox.py)."""
    return outbox.outbox_flush()


@app.task
def clear_expired_sessions() -> int:
    deleted, _ = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    return deleted
