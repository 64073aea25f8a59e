"""The session event log: appending an event, broadcasting it after commit, and shaping it per viewer.

The channel layer is only a notification bus (it may drop messages); the ``SessionEvent`` table is the
record. Every event is appended inside the caller's transaction, holding the session row lock, so that ids
within one session become visible in the order they were assigned; the broadcast happens on commit.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max

from boards.models import Session, SessionEvent
from cocreate.models import User

# Server → client event kinds.
CHAT_MESSAGE = "chat.message"
CHAT_HIDDEN = "chat.hidden"
CHAT_PINNED = "chat.pinned"
QUESTION_ASKED = "question.asked"
QUESTION_PUBLISHED = "question.published"
QUESTION_UPVOTED = "question.upvoted"
QUESTION_ANSWERED = "question.answered"
QUESTION_HIDDEN = "question.hidden"
QUESTION_PINNED = "question.pinned"
POLL_OPENED = "poll.opened"
POLL_RESULTS = "poll.results"
POLL_CLOSED = "poll.closed"
REACTION_ADDED = "reaction.added"
AGENDA_ADVANCED = "agenda.advanced"
DECISION_RECORDED = "decision.recorded"
ACTION_ITEM_CREATED = "action_item.created"
SESSION_STATE = "session.state"

# The author of these events may see their private part (it names the author); for other kinds, such as
# the vote counts of a poll whose results are hidden until it closes, only facilitators may.
AUTHOR_SEES_PRIVATE = frozenset({QUESTION_ASKED, QUESTION_PUBLISHED})

REACTIONS = ("👍", "👏", "❤️", "😂", "🤔", "🎉")


def session_group(session_id: int) -> str:
    return f"session-{session_id}"


def user_group(user_id: int) -> str:
    return f"user-{user_id}"


def resume_limit() -> int:
    """How many missed events a resume replays before it answers ``resync`` instead."""
    return int(getattr(settings, "BOARDS_RESUME_MAX_EVENTS", 500))


def event_append(
    *,
    session: Session,
    kind: str,
    payload: dict[str, Any],
    author: User | None = None,
    client_msg_id: str = "",
    private: dict[str, Any] | None = None,
    visibility: str = SessionEvent.Visibility.EVERYONE,
) -> SessionEvent:
    """Store one event and broadcast it once the surrounding transaction commits.

    The caller must hold ``select_for_update()`` on ``session`` inside ``transaction.atomic`` (and pass
    that freshly locked instance); the lock keeps ids committing in order within a session and makes
    ``seq`` gapless.
    """
    # The next seq is read, not kept in a counter on Session: a form saving a stale Session row could not
    # then turn it back. The row lock makes read-then-insert safe; the unique (session, seq) index backs it.
    newest = SessionEvent.objects.filter(session=session).aggregate(newest=Max("seq"))["newest"] or 0
    event = SessionEvent.objects.create(
        session=session,
        seq=newest + 1,
        kind=kind,
        payload=payload,
        private=private or {},
        author=author,
        client_msg_id=client_msg_id,
        visibility=visibility,
    )
    # Shaped at commit time: the caller may still set fields on ``event`` (its client_msg_id) before then.
    transaction.on_commit(
        lambda: group_send(
            session_group(session.pk), {"type": "session.event", "session": session.pk, "event": event_wire(event)}
        )
    )
    return event


def event_wire(event: SessionEvent) -> dict[str, Any]:
    """The full event as the channel layer carries it; consumers cut it down with ``event_for_viewer``."""
    return {
        "id": event.pk,
        "seq": event.seq,
        "kind": event.kind,
        "payload": event.payload,
        "private": event.private,
        "visibility": event.visibility,
        "author_id": event.author_id,
        "client_msg_id": event.client_msg_id,
        "created_at": event.created_at.isoformat(),
    }


def event_for_viewer(wire: dict[str, Any], *, user_id: int | None, is_facilitator: bool) -> dict[str, Any] | None:
    """What one viewer receives of an event, or None when they may not see it (``user_id`` None: not the author)."""
    is_author = wire["author_id"] is not None and wire["author_id"] == user_id
    if wire["visibility"] == SessionEvent.Visibility.FACILITATORS and not (is_facilitator or is_author):
        return None
    sees_private = is_facilitator or (is_author and wire["kind"] in AUTHOR_SEES_PRIVATE)
    payload = {**wire["payload"], **wire["private"]} if sees_private and wire["private"] else wire["payload"]
    shaped: dict[str, Any] = {
        "type": "event",
        "id": wire["id"],
        "kind": wire["kind"],
        "payload": payload,
        "created_at": wire["created_at"],
    }
    if wire["author_id"] == user_id and wire["client_msg_id"]:
        shaped["client_msg_id"] = wire["client_msg_id"]
    return shaped


def group_send(group: str, message: dict[str, Any]) -> None:
    """Send to a channel-layer group from sync code (a service's on-commit callback); see ``fanout.publish``."""
    from boards.fanout import publish  # the fan-out reads events through the selectors, which import this module

    publish(group, message)
