"""The live room socket, ``/ws/sessions/<id>/``: it checks and forwards, the services decide and store.

Close codes (sent after accepting, so that browsers see them): 4401 not logged in, 4403 not a member or
charter not accepted (also when a member is removed while connected), 4404 no such session.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings
from django.core.cache import cache

from boards import services
from boards.events import event_for_viewer, resume_limit, session_group, user_group
from boards.models import SessionEvent
from boards.selectors import (
    SessionAccess,
    event_wires_between,
    events_after,
    last_event_id,
    session_access,
    session_last_seq,
)
from cocreate.errors import DomainError, NotFoundError, PermissionDeniedError, RateLimitedError
from cocreate.insights.presence import presence_record
from cocreate.ratelimit import rate_limit_check
from cocreate.realtime import JsonConsumer

logger = logging.getLogger(__name__)

CLOSE_NOT_LOGGED_IN = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404

PRESENCE_TTL = 60  # seconds without a heartbeat before someone leaves the presence list
DELIVERED_MEMORY = 5000  # ids remembered per socket to drop duplicates between replay and live delivery
PRESENCE_DEBOUNCE = 1.0  # seconds: joins and leaves within it go out as one list (a connect storm is not N²)
GAP_WAIT = 0.5  # seconds a live event waits for an earlier one before the earlier one is read from the database


_background: set[asyncio.Task[None]] = set()


def _in_background(coroutine: Any) -> None:
    """Run a coroutine after this handler; held here so that neither the loop nor a closed socket drops it."""
    task = asyncio.get_running_loop().create_task(coroutine)
    _background.add(task)
    task.add_done_callback(_background.discard)


def _rate_limit() -> tuple[int, int]:
    limit, period = getattr(settings, "BOARDS_WS_RATE_LIMIT", (40, 10))
    return int(limit), int(period)


def _check_message(*, user: Any, session_id: int) -> SessionAccess:
    """Per message: the rate limit, then membership and charter again (a removed member is cut off)."""
    limit, period = _rate_limit()
    rate_limit_check(scope="boards-ws", key=user.pk, limit=limit, period=period)
    return session_access(user=user, session_id=session_id)


def _presence_update(*, session_id: int, channel: str, user: Any, leave: bool = False) -> bool:
    """Record this socket as present (or gone); True when the list of people changed.

    Presence lives in the cache, not the database: it is lossy on purpose. Two sockets updating at the same
    instant may overwrite each other's entry; the next heartbeat (every 20 s) puts it back.
    """
    key = f"boards-presence-{session_id}"
    now = time.time()
    entries: dict[str, dict[str, Any]] = cache.get(key) or {}
    before = _people(entries, now)
    entries = {c: e for c, e in entries.items() if e["seen"] > now - PRESENCE_TTL}
    if leave:
        entries.pop(channel, None)
    else:
        entries[channel] = {"id": user.pk, "name": user.public_name, "seen": now}
    cache.set(key, entries, timeout=PRESENCE_TTL * 2)
    return _people(entries, now) != before


def _presence_claim(*, session_id: int) -> bool:
    """True for the one socket (of any process) that sends the next presence list of this session."""
    return bool(cache.add(f"boards-presence-due-{session_id}", 1, timeout=PRESENCE_DEBOUNCE + 1))


def _presence_list(*, session_id: int) -> list[dict[str, Any]]:
    cache.delete(f"boards-presence-due-{session_id}")
    return _people(cache.get(f"boards-presence-{session_id}") or {}, time.time())


def _people(entries: dict[str, dict[str, Any]], now: float) -> list[dict[str, Any]]:
    people = {e["id"]: e["name"] for e in entries.values() if e["seen"] > now - PRESENCE_TTL}
    return [{"id": pk, "name": name} for pk, name in sorted(people.items(), key=lambda item: item[1].lower())]


class SessionConsumer(JsonConsumer):
    access: SessionAccess | None = None

    async def connect(self) -> None:
        self.access = None
        self.delivered: set[int] = set()
        # Live events are delivered in ``seq`` order: ``live_seq`` is the last one passed on (or known to be
        # history, which ``resume`` replays); later ones wait in ``held`` until the gap before them fills.
        self.live_seq = 0
        self.held: dict[int, dict[str, Any]] = {}
        self.repair_pending = False
        self.session_id = int(self.scope["url_route"]["kwargs"]["session_id"])
        self.user = self.scope.get("user")
        await self.accept()
        if self.user is None or not self.user.is_authenticated:
            await self.close(code=CLOSE_NOT_LOGGED_IN)
            return
        try:
            self.access = await database_sync_to_async(session_access)(user=self.user, session_id=self.session_id)
        except NotFoundError:
            await self.close(code=CLOSE_NOT_FOUND)
            return
        except PermissionDeniedError as exc:
            logger.info("live room refused", extra={"user": self.user.pk, "session": self.session_id, "code": exc.code})
            await self.close(code=CLOSE_FORBIDDEN)
            return
        # Join the groups before any replay, so that nothing committed meanwhile is missed (a duplicate is cheap,
        # a gap is not; duplicates are dropped in ``session_event``).
        await self.channel_layer.group_add(session_group(self.session_id), self.channel_name)
        await self.channel_layer.group_add(user_group(self.user.pk), self.channel_name)
        await database_sync_to_async(presence_record)(session_id=self.session_id, user_id=self.user.pk)
        self.live_seq = await database_sync_to_async(session_last_seq)(session_id=self.session_id)
        await self.send_json(
            {
                "type": "hello",
                "session": self.session_id,
                "state": self.access.session.state,
                "is_facilitator": self.access.is_facilitator,
                "user": {"id": self.user.pk, "name": self.user.public_name},
                "resume_limit": resume_limit(),
            }
        )
        await self._presence()

    async def disconnect(self, code: int) -> None:
        if self.access is None:
            return
        await self.channel_layer.group_discard(session_group(self.session_id), self.channel_name)
        await self.channel_layer.group_discard(user_group(self.user.pk), self.channel_name)
        await self._presence(leave=True)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.access is None:
            return
        try:
            self.access = await database_sync_to_async(_check_message)(user=self.user, session_id=self.session_id)
        except RateLimitedError as exc:
            await self.send_error(exc.code, exc.message)
            return
        except NotFoundError:
            await self._shut(CLOSE_NOT_FOUND)
            return
        except PermissionDeniedError:
            await self._shut(CLOSE_FORBIDDEN)
            return
        await super().receive(text_data=text_data, bytes_data=bytes_data)

    async def _shut(self, code: int) -> None:
        await self.disconnect(code)
        self.access = None
        await self.close(code=code)

    # --- Channel-layer messages ---------------------------------------------------------------------------

    async def session_event(self, message: dict[str, Any]) -> None:
        """A live event: pass it on in ``seq`` order, holding it briefly while an earlier one is late.

        Two ASGI processes broadcast independently, so events can arrive out of order, and the channel layer
        may drop one (over capacity). After ``GAP_WAIT`` the missing events are read from the database.
        """
        if self.access is None:
            return
        wire = message["event"]
        if wire["seq"] <= self.live_seq:
            return
        self.held[wire["seq"]] = wire
        await self._release()
        if self.held and not self.repair_pending:
            self.repair_pending = True
            _in_background(self._repair_later())

    async def _release(self) -> None:
        while self.live_seq + 1 in self.held:
            self.live_seq += 1
            wire = self.held.pop(self.live_seq)
            if wire["id"] in self.delivered or self.access is None:
                continue
            shaped = event_for_viewer(wire, user_id=self.user.pk, is_facilitator=self.access.is_facilitator)
            if shaped is not None:
                await self._deliver(shaped)

    async def _repair_later(self) -> None:
        await asyncio.sleep(GAP_WAIT)
        try:
            # Through the channel layer, so the repair runs in turn with this socket's other messages.
            await self.channel_layer.send(self.channel_name, {"type": "gap.repair"})
        except Exception:
            # The next live event schedules another attempt; the heartbeat's last_id is the final net.
            logger.exception("live room gap repair could not be scheduled")
            self.repair_pending = False

    async def gap_repair(self, message: dict[str, Any]) -> None:
        self.repair_pending = False
        if self.access is None or not self.held:
            return
        upto = max(self.held)
        missing = await database_sync_to_async(event_wires_between)(
            session_id=self.session_id, after_seq=self.live_seq, upto_seq=upto
        )
        for wire in missing:
            self.held.setdefault(wire["seq"], wire)
        await self._release()
        if self.held:  # only if the database lacks a seq, which the row lock rules out; skip past it
            self.live_seq = min(self.held) - 1
            await self._release()

    async def presence_update(self, message: dict[str, Any]) -> None:
        if self.access is not None:
            await self.send_json({"type": "presence", "users": message["users"]})

    async def access_revoked(self, message: dict[str, Any]) -> None:
        if self.access is not None and message["board_id"] == self.access.session.board_id:
            await self._shut(CLOSE_FORBIDDEN)

    async def _deliver(self, shaped: dict[str, Any]) -> None:
        self.delivered.add(shaped["id"])
        if len(self.delivered) > DELIVERED_MEMORY:
            floor = max(self.delivered) - DELIVERED_MEMORY // 2
            self.delivered = {i for i in self.delivered if i > floor}
        await self.send_json(shaped)

    async def _presence(self, *, leave: bool = False) -> None:
        changed = await database_sync_to_async(_presence_update)(
            session_id=self.session_id, channel=self.channel_name, user=self.user, leave=leave
        )
        if changed and await database_sync_to_async(_presence_claim)(session_id=self.session_id):
            _in_background(self._presence_later())

    async def _presence_later(self) -> None:
        """Send the room's presence list once the debounce window closes (it holds every change made meanwhile)."""
        await asyncio.sleep(PRESENCE_DEBOUNCE)
        people = await database_sync_to_async(_presence_list)(session_id=self.session_id)
        await self.channel_layer.group_send(
            session_group(self.session_id), {"type": "presence.update", "users": people}
        )

    # --- Client messages ----------------------------------------------------------------------------------

    async def handle_heartbeat(self, message: dict[str, Any]) -> None:
        """Keep presence fresh, rejoin the groups and tell the client the latest event id it may see.

        The channel layer may have lost this socket's group membership (a Redis restart) or dropped a
        message (over capacity) without anyone noticing; a client whose last id is behind ``last_id``
        sends ``resume`` and gets what it missed. Rejoining is idempotent and cheap.
        """
        assert self.access is not None
        await self.channel_layer.group_add(session_group(self.session_id), self.channel_name)
        await self.channel_layer.group_add(user_group(self.user.pk), self.channel_name)
        await self._presence()
        last_id = await database_sync_to_async(last_event_id)(access=self.access, user_id=self.user.pk)
        await self.send_json({"type": "heartbeat", "last_id": last_id})

    async def handle_resume(self, message: dict[str, Any]) -> None:
        """Send every event after ``after`` this user may see, in order, or ``resync`` when too many were missed."""
        after = message.get("after", 0)
        if isinstance(after, bool) or not isinstance(after, int) or after < 0:
            await self.send_error("invalid", "'after' must be a non-negative integer event id.")
            return
        assert self.access is not None
        limit = resume_limit()
        # Read the newest seq before the events: everything up to it is then replayed (or newer, and deduplicated).
        newest_seq = await database_sync_to_async(session_last_seq)(session_id=self.session_id)
        missed = await database_sync_to_async(events_after)(
            access=self.access, user_id=self.user.pk, after=after, limit=limit
        )
        if len(missed) > limit:
            await self.send_json({"type": "resync", "after": after})
            return
        for shaped in missed:
            if shaped["id"] not in self.delivered:
                await self._deliver(shaped)
        if newest_seq > self.live_seq:
            self.live_seq = newest_seq
            self.held = {seq: wire for seq, wire in self.held.items() if seq > newest_seq}
            await self._release()
        await self.send_json({"type": "resumed", "last_id": missed[-1]["id"] if missed else after})

    async def _act(self, service: Callable[..., SessionEvent], message: dict[str, Any], *fields: str) -> None:
        """Call a live-room service with the named fields of ``message``; ack the sender or send the error."""
        assert self.access is not None
        arguments = {field: message[field] for field in fields if field in message}
        try:
            event = await database_sync_to_async(service)(
                access=self.access, user=self.user, client_msg_id=message.get("client_msg_id", ""), **arguments
            )
        except DomainError as exc:
            await self.send_error(exc.code, exc.message, client_msg_id=message.get("client_msg_id"))
            return
        await self.send_json({"type": "ack", "client_msg_id": message.get("client_msg_id"), "id": event.pk})

    async def handle_chat_send(self, message: dict[str, Any]) -> None:
        await self._act(services.chat_send, message, "body", "agenda_item")

    async def handle_question_ask(self, message: dict[str, Any]) -> None:
        await self._act(services.question_ask, message, "body", "anonymous", "agenda_item")

    async def handle_question_upvote(self, message: dict[str, Any]) -> None:
        await self._act(services.question_upvote, message, "question")

    async def handle_poll_vote(self, message: dict[str, Any]) -> None:
        await self._act(services.poll_vote, message, "poll", "options")

    async def handle_reaction_add(self, message: dict[str, Any]) -> None:
        await self._act(services.reaction_add, message, "emoji")

    # Facilitator commands: the services refuse them for anyone else.

    async def handle_session_start(self, message: dict[str, Any]) -> None:
        await self._act(services.session_start, message)

    async def handle_session_end(self, message: dict[str, Any]) -> None:
        await self._act(services.session_end, message)

    async def handle_agenda_advance(self, message: dict[str, Any]) -> None:
        await self._act(services.agenda_advance, message, "agenda_item")

    async def handle_chat_pin(self, message: dict[str, Any]) -> None:
        await self._act(services.chat_pin, message, "message", "pinned")

    async def handle_chat_hide(self, message: dict[str, Any]) -> None:
        await self._act(services.chat_hide, message, "message")

    async def handle_question_approve(self, message: dict[str, Any]) -> None:
        await self._act(services.question_approve, message, "question")

    async def handle_question_answer(self, message: dict[str, Any]) -> None:
        await self._act(services.question_answer, message, "question")

    async def handle_question_hide(self, message: dict[str, Any]) -> None:
        await self._act(services.question_hide, message, "question")

    async def handle_question_pin(self, message: dict[str, Any]) -> None:
        await self._act(services.question_pin, message, "question", "pinned")

    async def handle_poll_open(self, message: dict[str, Any]) -> None:
        await self._act(services.poll_open, message, "question", "options", "kind", "results_live", "agenda_item")

    async def handle_poll_close(self, message: dict[str, Any]) -> None:
        await self._act(services.poll_close, message, "poll")

    async def handle_decision_record(self, message: dict[str, Any]) -> None:
        await self._act(services.decision_record, message, "text", "agenda_item")

    async def handle_action_item_create(self, message: dict[str, Any]) -> None:
        await self._act(services.action_item_create, message, "title", "owner", "due_date", "agenda_item")
