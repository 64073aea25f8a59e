"""The notification socket, ``/ws/notifications/``: a signed-in person's own notifications, live, in every tab.

It only delivers: notifications are stored by ``ideas.services.notify`` and pushed after commit
(``ideas/events.py``). Close codes (sent after accepting, so that browsers see them): 4401 not logged in,
4403 the account is not active (also when it is closed while connected). The protocol is in
``boards/README.md`` beside the live room's.
"""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings

from cocreate.errors import RateLimitedError
from cocreate.models import User
from cocreate.ratelimit import rate_limit_check
from cocreate.realtime import JsonConsumer
from ideas.events import notifications_after, notifications_group, notifications_state, resume_limit

CLOSE_NOT_LOGGED_IN = 4401
CLOSE_FORBIDDEN = 4403


def _is_active(user_id: int) -> bool:
    return User.objects.filter(pk=user_id, is_active=True).exists()


def _rate_limit_check(*, user_id: int) -> None:
    limit, period = getattr(settings, "IDEAS_NOTIFICATIONS_WS_RATE_LIMIT", (30, 60))
    rate_limit_check(scope="notifications-ws", key=user_id, limit=int(limit), period=int(period))


class NotificationConsumer(JsonConsumer):
    group: str = ""  # set once the socket is authorised; empty means nothing is delivered or answered
    user_id: int = 0

    async def connect(self) -> None:
        await self.accept()
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_NOT_LOGGED_IN)
            return
        self.user_id = int(user.pk)
        if not await database_sync_to_async(_is_active)(self.user_id):
            await self.close(code=CLOSE_FORBIDDEN)
            return
        # Join before reading the state, so that nothing committed meanwhile is missed (a duplicate is
        # cheap and the client drops it by id; a gap is not).
        self.group = notifications_group(self.user_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        state = await database_sync_to_async(notifications_state)(user_id=self.user_id)
        await self.send_json({"type": "hello", **state, "resume_limit": resume_limit()})

    async def disconnect(self, code: int) -> None:
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)
            self.group = ""

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if not self.group:
            return
        try:
            await database_sync_to_async(_rate_limit_check)(user_id=self.user_id)
        except RateLimitedError as exc:
            await self.send_error(exc.code, exc.message)
            return
        await super().receive(text_data=text_data, bytes_data=bytes_data)

    async def _still_active(self) -> bool:
        if await database_sync_to_async(_is_active)(self.user_id):
            return True
        await self._shut()
        return False

    async def _shut(self) -> None:
        await self.disconnect(CLOSE_FORBIDDEN)
        await self.close(code=CLOSE_FORBIDDEN)

    # --- Client messages ----------------------------------------------------------------------------------

    async def handle_resume(self, message: dict[str, Any]) -> None:
        """Send the notifications after ``after`` (the newest ``resume_limit`` at most, oldest first), then
        ``resumed`` with the unread count."""
        after = message.get("after", 0)
        if isinstance(after, bool) or not isinstance(after, int) or after < 0:
            await self.send_error("invalid", "'after' must be a non-negative integer notification id.")
            return
        if not await self._still_active():
            return
        frames, truncated = await database_sync_to_async(notifications_after)(
            user_id=self.user_id, after=after, limit=resume_limit()
        )
        for frame in frames:
            await self.send_json({**frame, "replay": True})
        state = await database_sync_to_async(notifications_state)(user_id=self.user_id)
        await self.send_json({"type": "resumed", "after": after, "truncated": truncated, **state})

    async def handle_heartbeat(self, message: dict[str, Any]) -> None:
        """Check the account, join the group again (a restarted Redis forgot it) and answer the newest id and
        the unread count: a client whose last id is behind resumes."""
        if not await self._still_active():
            return
        await self.channel_layer.group_add(self.group, self.channel_name)
        state = await database_sync_to_async(notifications_state)(user_id=self.user_id)
        await self.send_json({"type": "heartbeat", **state})

    # --- Channel-layer messages ---------------------------------------------------------------------------

    async def notifications_push(self, message: dict[str, Any]) -> None:
        if self.group:
            await self.send_json(message["frame"])

    async def notifications_revoked(self, message: dict[str, Any]) -> None:
        if self.group:
            await self._shut()
