"""Celery adapters of the boards app; the work is in services."""

from __future__ import annotations

from boards import services
from boards.models import Session
from cocreate.celery import app


@app.task(acks_late=True)
def minutes_send(*, session_id: int) -> int:
    """E-mail the minutes (and the survey link) of an ended session to its members; safe to run twice."""
    session = Session.objects.select_related("board").filter(pk=session_id, state=Session.State.ENDED).first()
    if session is None:
        return 0
    return services.minutes_email_members(session=session)


@app.task
def action_item_reminders() -> int:
    """Daily: remind owners of action items coming due (each item once)."""
    return services.action_item_reminders_send()
