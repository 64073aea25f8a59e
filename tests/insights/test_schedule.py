"""The worker sees the insights tasks and beat runs them: surveys, figures, quarterly NPS, weekly digest."""

from __future__ import annotations

from cocreate.celery import app


def test_every_insights_beat_entry_names_a_task_the_worker_registers() -> None:
    app.loader.import_default_modules()
    entries = {name: entry["task"] for name, entry in app.conf.beat_schedule.items() if name.startswith("insights-")}
    assert entries == {
        "insights-send-surveys": "cocreate.insights.tasks.send_surveys",
        "insights-relationship-nps": "cocreate.insights.tasks.send_relationship_nps",
        "insights-refresh-figures": "cocreate.insights.tasks.refresh_figures",
        "insights-weekly-digest": "cocreate.insights.tasks.send_weekly_digest",
    }
    assert set(entries.values()) <= set(app.tasks)
