from __future__ import annotations

from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.core.mail import EmailMultiAlternatives
from django.utils import timezone

from cocreate.celery import app

HEARTBEAT_KEY = "celery-heartbeat"


@app.task(
    autoretry_for=(OSError,),
    retry_backoff=5,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=8,
    acks_late=True,
)
def send_email(*, to: list[str], subject: str, text: str, html: str = "", idempotency_key: str = "") -> bool:
    """Send one e-mail. With an ``idempotency_key``, a retried or duplicated task sends it once only.

    Returns False when the key shows the message was already sent.
    """
    if idempotency_key and not cache.add(f"email-sent:{idempotency_key}", 1, timeout=7 * 24 * 3600):
        return False
    message = EmailMultiAlternatives(subject=subject, body=text, from_email=settings.DEFAULT_FROM_EMAIL, to=to)
    if html:
        message.attach_alternative(html, "text/html")
    try:
        message.send()
    except OSError:
        if idempotency_key:
            cache.delete(f"email-sent:{idempotency_key}")
        raise
    return True


@app.task
def heartbeat() -> str:
    """Proves beat and a worker are alive: /healthz reads the time it last ran."""
    stamp = timezone.now().isoformat()
    cache.set(HEARTBEAT_KEY, stamp, timeout=3600)
    return stamp


@app.task
def clear_expired_sessions() -> int:
    deleted, _ = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    return deleted
