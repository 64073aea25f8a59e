"""Readiness of each backing service, for /healthz and for operators."""

from __future__ import annotations

import asyncio
import datetime
import time
import uuid
from collections.abc import Callable
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import DEFAULT_CHANNEL_LAYER, channel_layers, get_channel_layer
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

CHANNEL_LAYER_TIMEOUT = 3.0  # seconds the channel-layer round trip may take


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _cache() -> None:
    key = f"healthz:{uuid.uuid4().hex}"
    cache.set(key, "ok", 10)
    if cache.get(key) != "ok":
        raise RuntimeError("cache did not return the value just written")
    cache.delete(key)


def _channel_layer() -> None:
    """A message sent to a new channel comes back, through a layer instance of the check's own.

    Not the process's shared instance: the live-room hub keeps a receive running on it (``boards/fanout.py``),
    and channels-redis serves every receive of a process through one reader, so a check could wait on the hub's
    reader while it reconnects after a Redis restart. The round trip is bounded, so the check fails, never hangs.
    """
    if get_channel_layer() is None:
        raise RuntimeError("no channel layer configured")
    layer = channel_layers.make_backend(DEFAULT_CHANNEL_LAYER)

    async def round_trip() -> None:
        try:
            channel = await layer.new_channel()
            await layer.send(channel, {"type": "healthz"})
            message = await asyncio.wait_for(layer.receive(channel), timeout=CHANNEL_LAYER_TIMEOUT)
            if message.get("type") != "healthz":
                raise RuntimeError("channel layer returned another message")
        finally:
            close_pools = getattr(layer, "close_pools", None)
            if close_pools is not None:
                await close_pools()

    async_to_sync(round_trip)()


def _broker() -> None:
    from cocreate.celery import app

    if settings.CELERY_TASK_ALWAYS_EAGER:
        return
    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)


def _worker() -> None:
    """The heartbeat task (queued by beat, run by a worker) ran recently: both are alive and keeping up."""
    from cocreate.tasks import HEARTBEAT_KEY

    if settings.CELERY_TASK_ALWAYS_EAGER:
        return
    stamp = cache.get(HEARTBEAT_KEY)
    if stamp is None:
        raise RuntimeError("no worker heartbeat recorded (worker or scheduler not running, or the cache is down)")
    age = (timezone.now() - datetime.datetime.fromisoformat(stamp)).total_seconds()
    if age > settings.HEARTBEAT_MAX_AGE:
        raise RuntimeError(f"last worker heartbeat {age:.0f} s ago (limit {settings.HEARTBEAT_MAX_AGE} s)")


CHECKS: dict[str, Callable[[], None]] = {
    "database": _database,
    "cache": _cache,
    "channel_layer": _channel_layer,
    "broker": _broker,
    "worker": _worker,
}


def health_report() -> tuple[bool, dict[str, Any]]:
    """Run every check; each reports ``{"ok": bool, "ms": float}`` and an ``error`` when it fails."""
    report: dict[str, Any] = {}
    healthy = True
    for name, check in CHECKS.items():
        started = time.perf_counter()
        try:
            check()
        except Exception as exc:  # noqa: BLE001 - a health check reports every failure, whatever it is
            healthy = False
            report[name] = {"ok": False, "error": exc.__class__.__name__ + ": " + str(exc)[:200]}
        else:
            report[name] = {"ok": True}
        report[name]["ms"] = round((time.perf_counter() - started) * 1000, 1)
    return healthy, report
