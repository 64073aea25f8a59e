"""Celery adapters of insights; the work is in ``surveys.py``, ``selectors.py`` and ``digest.py``."""

from __future__ import annotations

from cocreate.celery import app
from cocreate.insights import digest, figures, surveys


@app.task(acks_late=True)
def send_surveys() -> dict[str, int]:
    """Every 15 minutes: CSAT surveys for newly closed ideas and ended sessions, then due reminders. Idempotent."""
    return surveys.surveys_send()


@app.task(acks_late=True)
def send_relationship_nps() -> int:
    """Quarterly: the relationship NPS survey (once per quarter, whatever the number of runs)."""
    return surveys.relationship_nps_send()


@app.task
def refresh_figures() -> str:
    """Every 15 minutes: recompute the default figures into the cache so the page opens without waiting."""
    return figures.figures_refresh()["computed_at"]


@app.task(acks_late=True)
def send_weekly_digest() -> int:
    """Monday morning: the week's figures and the ideas that moved, to staff and product managers."""
    return digest.weekly_digest_send()
