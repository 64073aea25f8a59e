"""Celery adapters of the boards app; the work is in services."""

from __future__ import annotations

from boards import services
from boards.models import Session
from cocreate import outbox
from cocreate.celery import app


@app.task(acks_late=True)
def minutes_send(*, session_id: int, outbox_id: int | None = None) -> int:
    """E-mail the minutes (and the survey link) of an ended session to its members; safe to run twice.

    Queued through the outbox (``cocreate/outbox.py``); a worker killed midway leaves the row, which is published
    again, and each member's e-mail is sent once by its idempotency key.
    """
    try:
        session = Session.objects.select_related("board").filter(pk=session_id, state=Session.State.ENDED).first()
        return 0 if session is None else services.minutes_email_members(session=session)
    finally:
        outbox.outbox_done(row_id=outbox_id)


@app.task
def action_item_reminders() -> int:
    """Daily: remind owners of action items coming due (each item once)."""
    return services.action_item_reminders_send()
