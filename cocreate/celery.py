"""The Celery app, configured from Django settings (``CELERY_*``), and the beat schedule in code."""

from __future__ import annotations

import os

from celery import Celery
from celery.schedules import crontab
from django.conf import settings

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cocreate.settings")

app = Celery("cocreate")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.autodiscover_tasks(["cocreate.insights"])

# Each app's periodic jobs. Every task here must be idempotent: beat may fire twice around a restart.
app.conf.beat_schedule = {
    "cocreate-heartbeat": {"task": "cocreate.tasks.heartbeat", "schedule": float(settings.HEARTBEAT_SECONDS)},
    "cocreate-outbox-flush": {"task": "cocreate.tasks.outbox_flush", "schedule": float(settings.OUTBOX_FLUSH_SECONDS)},
    "cocreate-cleanup-sessions": {
        "task": "cocreate.tasks.clear_expired_sessions",
        "schedule": crontab(minute=17, hour=3),
    },
    "ideas-expire": {"task": "ideas.tasks.expire_ideas", "schedule": 300.0},
    "ideas-refresh-trending": {"task": "ideas.tasks.refresh_trending", "schedule": 600.0},
    "ideas-daily-digest": {
        "task": "ideas.tasks.send_digests",
        "schedule": crontab(minute=0, hour=7),
        "kwargs": {"period": "daily"},
    },
    "ideas-weekly-digest": {
        "task": "ideas.tasks.send_digests",
        "schedule": crontab(minute=0, hour=7, day_of_week=1),
        "kwargs": {"period": "weekly"},
    },
    "insights-send-surveys": {"task": "cocreate.insights.tasks.send_surveys", "schedule": 900.0},
    "insights-relationship-nps": {
        "task": "cocreate.insights.tasks.send_relationship_nps",
        "schedule": crontab(minute=0, hour=8, day_of_month=1, month_of_year="1,4,7,10"),
    },
    "insights-refresh-figures": {"task": "cocreate.insights.tasks.refresh_figures", "schedule": 900.0},
    "insights-weekly-digest": {
        "task": "cocreate.insights.tasks.send_weekly_digest",
        "schedule": crontab(minute=30, hour=7, day_of_week=1),
    },
    "boards-action-item-reminders": {
        "task": "boards.tasks.action_item_reminders",
        "schedule": crontab(minute=5, hour=7),
    },
}
