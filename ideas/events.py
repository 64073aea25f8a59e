"""In-app notifications pushed live to the user's open tabs (``/ws/notifications/``, ``ideas/consumers.py``).

The ``Notification`` table is the record; the channel layer only tells the sockets of a user, after commit,
that a row arrived or that the unread count changed. It may drop a message (over capacity, across a Redis
restart): a socket's heartbeat answers the newest id and the unread count, and the client resumes after the
last id it saw.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Max
from django.urls import reverse

from ideas.models import Notification

PUSH = "notifications.push"  # channel-layer message: ``frame`` goes to the socket as it is
REVOKED = "notifications.revoked"  # channel-layer message: the account is gone, close its sockets


def notifications_group(user_id: int) -> str:
    return f"notifications-{user_id}"


def resume_limit() -> int:
    """How many notifications a connect or resume replays at most (the newest ones)."""
    return int(getattr(settings, "IDEAS_NOTIFICATIONS_RESUME_MAX", 50))


def notification_frame(notification: Notification, *, unread: int) -> dict[str, Any]:
    idea_id = notification.idea_id
    return {
        "type": "notification",
        "id": notification.pk,
        "kind": notification.kind,
        "text": notification.text,
        "url": reverse("ideas:detail", args=[idea_id]) if idea_id else reverse("ideas:notifications"),
        "created": notification.created_at.isoformat(),
        "unread": unread,
    }


def unread_counts(user_ids: Sequence[int]) -> dict[int, int]:
    """Unread notifications per user, in one query (users without any are 0)."""
    rows = (
        Notification.objects.filter(user_id__in=user_ids, read_at__isnull=True)
        .values("user_id")
        .annotate(unread=Count("pk"))
        .values_list("user_id", "unread")
    )
    counts = dict.fromkeys(user_ids, 0)
    counts.update(dict(rows))
    return counts


def notifications_state(*, user_id: int) -> dict[str, int]:
    """The user's unread count and newest notification id (0 when there is none)."""
    return {
        "unread": unread_counts([user_id])[user_id],
        "last_id": Notification.objects.filter(user_id=user_id).aggregate(last=Max("pk"))["last"] or 0,
    }


def notifications_after(*, user_id: int, after: int, limit: int) -> tuple[list[dict[str, Any]], bool]:
    """Frames for the user's notifications with an id above ``after``, oldest first: at most the newest
    ``limit``, and whether older ones were left out."""
    unread = unread_counts([user_id])[user_id]
    rows = list(Notification.objects.filter(user_id=user_id, pk__gt=after).order_by("-pk")[: limit + 1])
    frames = [notification_frame(row, unread=unread) for row in reversed(rows[:limit])]
    return frames, len(rows) > limit


def _send(group: str, message: dict[str, Any]) -> None:
    from boards.events import group_send  # the platform's one way to reach the channel layer from sync code

    group_send(group, message)


def notifications_push_on_commit(notifications: Sequence[Notification]) -> None:
    """After the caller's transaction commits, send each stored notification to its user's open sockets.

    Nothing is sent when the transaction rolls back. A failed send is logged, never raised: the rows are
    stored, and the clients find them on their next heartbeat or reconnect.
    """
    stored = [row for row in notifications if row.pk is not None]
    if not stored:
        return

    def push() -> None:
        counts = unread_counts(sorted({row.user_id for row in stored}))
        for row in stored:
            frame = notification_frame(row, unread=counts[row.user_id])
            _send(notifications_group(row.user_id), {"type": PUSH, "frame": frame})

    transaction.on_commit(push, robust=True)


def unread_push_on_commit(*, user_id: int) -> None:
    """After commit, send the user's unread count to their open sockets (another tab marked some read)."""

    def push() -> None:
        frame = {"type": "unread", "unread": unread_counts([user_id])[user_id]}
        _send(notifications_group(user_id), {"type": PUSH, "frame": frame})

    transaction.on_commit(push, robust=True)


def notifications_revoke_on_commit(*, user_id: int) -> None:
    """After commit, close the user's notification sockets (the account was closed)."""
    transaction.on_commit(lambda: _send(notifications_group(user_id), {"type": REVOKED}), robust=True)
