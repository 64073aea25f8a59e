"""/healthz reports the worker down when its heartbeat is stale, and up again once a heartbeat lands."""

from __future__ import annotations

import datetime

import pytest
from django.core.cache import cache
from django.test import override_settings
from django.utils import timezone

from cocreate import health
from cocreate.tasks import HEARTBEAT_KEY, heartbeat

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_queued_tasks")]


@pytest.fixture
def _queued_tasks():
    with override_settings(CELERY_TASK_ALWAYS_EAGER=False, HEARTBEAT_MAX_AGE=90):
        yield


def worker_check() -> dict[str, object]:
    _healthy, report = health.health_report()
    return report["worker"]


def test_the_worker_is_reported_down_before_any_heartbeat() -> None:
    check = worker_check()
    assert check["ok"] is False
    assert "no worker heartbeat" in str(check["error"])


def test_a_heartbeat_older_than_the_limit_reports_the_worker_down() -> None:
    cache.set(HEARTBEAT_KEY, (timezone.now() - datetime.timedelta(seconds=91)).isoformat())
    check = worker_check()
    assert check["ok"] is False
    assert "last worker heartbeat 91 s ago (limit 90 s)" in str(check["error"])


def test_a_fresh_heartbeat_reports_the_worker_up_again() -> None:
    cache.set(HEARTBEAT_KEY, (timezone.now() - datetime.timedelta(minutes=10)).isoformat())
    assert worker_check()["ok"] is False
    heartbeat.run()
    assert worker_check()["ok"] is True
