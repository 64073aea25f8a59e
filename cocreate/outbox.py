"""The task outbox: a task asked for in a transaction is stored with it, so a broker outage loses nothing.

``task_enqueue_on_commit`` writes an ``OutboxTask`` row in the caller's transaction and publishes the task
after commit. If the broker cannot be reached, the request still succeeds: the row waits. ``outbox_flush``
(a beat job every ``OUTBOX_FLUSH_SECONDS``) publishes rows that were never published, and again those
published more than ``OUTBOX_REDELIVER_AFTER`` seconds ago and still not done, which covers tasks a
broker restart without persistence dropped. The task deletes its row when done (``outbox_done``); every
outbox task must therefore be idempotent and accept ``outbox_id``.
"""

from __future__ import annotations

import datetime
import logging
import time
from typing import Any

from celery import Task
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from kombu.exceptions import OperationalError
from redis.exceptions import RedisError

from cocreate.models import OutboxTask

logger = logging.getLogger(__name__)
PUBLISH_ERRORS = (OperationalError, RedisError, OSError)
MAX_ATTEMPTS = 20
# After a failed publish this process leaves the broker alone for a while: each attempt against a Redis that
# is down costs seconds (redis-py retries the connection three times with backoff), and the rows wait anyway.
BROKER_BACKOFF_SECONDS = 10.0
_broker_down_until = 0.0


def task_enqueue_on_commit(*, task: Task, kwargs: dict[str, Any]) -> OutboxTask:
    row = OutboxTask.objects.create(task=task.name, kwargs=kwargs)
    transaction.on_commit(lambda: outbox_publish(row_id=row.pk))
    return row


def outbox_publish(*, row_id: int) -> bool:
    """Hand one row's task to the broker; False (and the row kept for the next flush) when it cannot."""
    global _broker_down_until
    from cocreate.celery import app

    if time.monotonic() < _broker_down_until:
        return False
    row = OutboxTask.objects.filter(pk=row_id).first()
    if row is None:
        return False
    OutboxTask.objects.filter(pk=row_id).update(attempts=F("attempts") + 1)
    try:
        # No publish retries here: a web request must not wait for the broker; the flush retries.
        app.tasks[row.task].apply_async(kwargs={**row.kwargs, "outbox_id": row.pk}, retry=False)
    except PUBLISH_ERRORS as exc:
        _broker_down_until = time.monotonic() + BROKER_BACKOFF_SECONDS
        logger.warning("outbox: could not publish %s #%s, kept for the next flush: %s", row.task, row.pk, exc)
        return False
    OutboxTask.objects.filter(pk=row_id).update(published_at=timezone.now())
    return True


def outbox_flush(*, now: datetime.datetime | None = None) -> int:
    """Publish the rows never published and those published long ago but never done; returns how many went."""
    now = now or timezone.now()
    stale = now - datetime.timedelta(seconds=settings.OUTBOX_REDELIVER_AFTER)
    published = 0
    with transaction.atomic():
        # skip_locked: two flushes at once share the rows instead of publishing each twice.
        due = list(
            OutboxTask.objects.select_for_update(skip_locked=True)
            .filter(Q(published_at__isnull=True) | Q(published_at__lt=stale), attempts__lt=MAX_ATTEMPTS)
            .order_by("pk")
            .values_list("pk", flat=True)[:500]
        )
        for row_id in due:
            published += outbox_publish(row_id=row_id)
    given_up = OutboxTask.objects.filter(attempts__gte=MAX_ATTEMPTS).count()
    if given_up:
        logger.error("outbox: %s tasks were published %s times and never done", given_up, MAX_ATTEMPTS)
    return published


def outbox_done(*, row_id: int | None) -> None:
    if row_id is not None:
        OutboxTask.objects.filter(pk=row_id).delete()


def outbox_attempt(*, row_id: int | None) -> None:
    """A task with retries of its own marks each attempt, so the flush does not publish it again meanwhile."""
    if row_id is not None:
        OutboxTask.objects.filter(pk=row_id).update(published_at=timezone.now())
