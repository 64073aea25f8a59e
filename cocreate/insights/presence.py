"""The live rooms' presence log, which session attendance is counted from."""

from __future__ import annotations

import datetime

from django.db.models import F, Value
from django.db.models.functions import Greatest
from django.utils import timezone

from cocreate.models import SessionPresence


def presence_record(*, session_id: int, user_id: int, now: datetime.datetime | None = None) -> None:
    """Note that ``user_id`` joined ``session_id``'s room: the first time creates the row, later times move
    ``last_seen_at`` (never backwards). Called by the live-room consumer once its access check has admitted the socket.

    No lock: a plain UPDATE, then an INSERT that yields to a concurrent one (the unique constraint decides), so
    two tabs joining at once leave one row."""
    now = now or timezone.now()
    if SessionPresence.objects.filter(session_id=session_id, user_id=user_id).update(
        last_seen_at=Greatest(F("last_seen_at"), Value(now))
    ):
        return
    SessionPresence.objects.bulk_create(
        [SessionPresence(session_id=session_id, user_id=user_id, first_joined_at=now, last_seen_at=now)],
        ignore_conflicts=True,
    )
