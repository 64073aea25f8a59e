"""The live room socket, ``/ws/sessions/<id>/``: it checks and forwards, the services decide and store.

Close codes (sent after accepting, so that browsers see them): 4401 not logged in, 4403 not a member or
charter not accepted (also when a member is removed while connected), 4404 no such session.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Callable
from typing import Any

from channels.db import database_sync_to_async
from channels.exceptions import StopConsumer
from channels.layers import get_channel_layer
from channels.utils import await_many_dispatch
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _

from boards import presence, services
from boards.events import event_for_viewer, resume_limit, session_group
from boards.fanout import RoomHub, encode, room_hub
from boards.models import SessionEvent
from boards.selectors import (
    SessionAccess,
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
CLOSE_TRY_AGAIN = 1013  # the socket fell too far behind; reconnect and resume
CLOSE_INTERNAL_ERROR = 1011  # a heartbeat's checks failed (the database or Redis away); reconnect and resume

DELIVERED_MEMORY = 5000  # ids remembered per socket to drop duplicates between replay and live delivery
FIRST_MESSAGE_WAIT = 0.5  # seconds live events wait after connecting for the client's ``resume`` to go first


_background: set[asyncio.Task[None]] = set()


def _in_background(coroutine: Any) -> None:
    """Run a coroutine after this handler; held here so that neither the loop nor a closed socket drops it."""
    task = asyncio.get_running_loop().create_task(coroutine)
    _background.add(task)
    task.add_done_callback(_background.discard)


def _heartbeat_delay() -> float:
    """Seconds a heartbeat's reads wait: a random point of ``BOARDS_HEARTBEAT_SPREAD`` (default 5 s).

    Sockets that connected together (a room after a restart, a benchmark) beat together; their reads, five
    queries each on the process's one database thread, then held up every message stored behind them (p99 of
    seconds at 200 sockets). Spread out, they share the thread with the messages.
    """
    spread = float(getattr(settings, "BOARDS_HEARTBEAT_SPREAD", 5.0))
    return random.uniform(0, spread) if spread > 0 else 0.0


def _rate_limit() -> tuple[int, int]:
    limit, period = getattr(settings, "BOARDS_WS_RATE_LIMIT", (40, 10))
    return int(limit), int(period)


def _peek(text_data: str | None) -> dict[str, Any]:
    """The message as a dict, before (and without) validating it; empty when it is not a JSON object."""
    try:
        message = json.loads(text_data or "")
    except ValueError:
        return {}
    return message if isinstance(message, dict) else {}


def _is_resume(text_data: str | None) -> bool:
    return _peek(text_data).get("type") == "resume"


def _refused_id(text_data: str | None) -> dict[str, str]:
    """The refused message's ``client_msg_id``, for the error: the client keeps that message and sends it again
    later rather than waiting for its acknowledgement until the next reconnect."""
    client_msg_id = _peek(text_data).get("client_msg_id")
    return {"client_msg_id": client_msg_id} if isinstance(client_msg_id, str) and len(client_msg_id) <= 64 else {}


def _rate_limit_check(*, user: Any) -> None:
    limit, period = _rate_limit()
    rate_limit_check(scope="boards-ws", key=user.pk, limit=limit, period=period)


def _heartbeat_reads(*, user: Any, session_id: int, channel: str) -> tuple[SessionAccess, bool, int]:
    """A heartbeat's reads in one trip to the database thread: access (raises when it is gone), whether this socket
    sends the next presence list, and the newest event id this viewer may see.

    Four trips (one per read) queued behind the messages waiting for that thread, and each waited its turn again.
    The account is read again too: the socket's user was loaded when it connected, and an account deactivated
    since then must not keep its socket (a reconnect would be refused).
    """
    if not get_user_model().objects.filter(pk=user.pk, is_active=True).exists():
        raise PermissionDeniedError(_("This account is not active."), code="not_authenticated")
    access = session_access(user=user, session_id=session_id)
    send_list = presence.touch(session_id=session_id, channel=channel, user=user) and presence.claim(
        session_id=session_id
    )
    return access, send_list, last_event_id(access=access, user_id=user.pk)


class SessionConsumer(JsonConsumer):
    access: SessionAccess | None = None
    hub: RoomHub | None = None
    on_hold: list[dict[str, Any]] | None = None
    first_message: bool = True  # a connection's first ``resume`` is never rate-limited (see ``receive``)
    user: Any = None  # the scope's user; past ``connect`` an authenticated User

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """As Channels' own loop, but the second source is this socket's inbox, filled by the process's hub.

        The socket has no channel-layer channel to read: its room's events, presence lists and revocations
        reach the process once (``boards.fanout``) and are handed to each socket here, in turn with the
        socket's own messages. ``channel_name`` still names the socket (presence keys on it).
        """
        self.scope = scope
        self.inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.channel_layer = get_channel_layer(self.channel_layer_alias)
        self.channel_name = await self.channel_layer.new_channel()
        self.base_send = send
        try:
            await await_many_dispatch([receive, self._inbox_batch], self.dispatch)
        except StopConsumer:
            pass
        finally:
            if self.hub is not None:  # also when the consumer failed: the hub must not feed a dead inbox
                self.hub.leave(self)

    async def _inbox_batch(self) -> dict[str, Any]:
        """Every message waiting in the inbox, in order, as one.

        Under load the inbox holds several frames: taking them all at once saves a task and a wait per frame.
        Only this reader takes from the inbox: were frames also taken while a client message is handled, one
        frame already taken by the waiting reader would be overtaken by later ones (and then dropped as old).
        """
        messages = [await self.inbox.get()]
        while not self.inbox.empty():
            messages.append(self.inbox.get_nowait())
        return {"type": "room.batch", "messages": messages}

    async def dispatch(self, message: dict[str, Any]) -> None:
        if message["type"] == "room.batch":
            for one in message["messages"]:
                await self._dispatch_one(one)
        else:
            await self._dispatch_one(message)

    async def _dispatch_one(self, message: dict[str, Any]) -> None:
        # Live frames touch no database: skip Channels' per-message connection clean-up (a thread hop each).
        if message["type"] == "room.frame":
            await self.room_frame(message)
        else:
            await super().dispatch(message)

    @property
    def user_id(self) -> int:
        return int(self.user.pk)

    async def connect(self) -> None:
        self.access = None
        self.delivered: set[int] = set()
        # Live events arrive in ``seq`` order; ``live_seq`` is the last one passed on (or known to be history,
        # which ``resume`` replays).
        self.live_seq = 0
        # Live frames wait here until the client's first message (its ``resume``) has been handled: the replay
        # holds older events, and a live event sent before it would reach the client ahead of them.
        self.on_hold = []
        self.first_message = True
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
        # Join before any replay, so that nothing committed meanwhile is missed (a duplicate is cheap, a gap
        # is not; duplicates are dropped in ``room_frame``).
        self.hub = room_hub(self.channel_layer)
        await self.hub.join(self)
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
        _in_background(self._release_hold_later())

    async def _release_hold_later(self) -> None:
        """A client that sends nothing after connecting still gets live events, a moment later."""
        await asyncio.sleep(FIRST_MESSAGE_WAIT)
        self.inbox.put_nowait({"type": "room.release"})

    async def room_release(self, message: dict[str, Any]) -> None:
        await self._release_hold()

    async def _release_hold(self) -> None:
        frames, self.on_hold = self.on_hold, None
        for frame in frames or ():
            await self.room_frame(frame)

    async def disconnect(self, code: int) -> None:
        if self.access is None:
            return
        if self.hub is not None:
            self.hub.leave(self)
        await self._presence(leave=True)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        """Rate-limit every message; membership and charter are checked again by whatever the message does.

        Actions check them inside their own transaction (``boards.services``), heartbeat and resume before
        they read; a removal closes the socket at once through ``access.revoked``.
        """
        if self.access is None:
            return
        # A refused first ``resume`` would leave a hole the client never asks for again (live events follow it),
        # so a reconnecting client's catch-up is exempt; every later message counts.
        exempt = self.first_message and _is_resume(text_data)
        self.first_message = False
        try:
            if not exempt:
                await database_sync_to_async(_rate_limit_check)(user=self.user)
        except RateLimitedError as exc:
            await self.send_error(exc.code, exc.message, **_refused_id(text_data))
        else:
            await super().receive(text_data=text_data, bytes_data=bytes_data)
        if self.on_hold is not None:
            await self._release_hold()

    async def _recheck(self) -> bool:
        """Membership and charter from the database; False (and the socket closed) when they are gone."""
        try:
            self.access = await database_sync_to_async(session_access)(user=self.user, session_id=self.session_id)
        except (NotFoundError, PermissionDeniedError) as exc:
            await self._shut_for(exc)
            return False
        return True

    async def _shut_for(self, refused: NotFoundError | PermissionDeniedError) -> None:
        """Close with the code that says why access is gone: no session, not logged in (an account no longer
        active), or not a member any more."""
        if isinstance(refused, NotFoundError):
            await self._shut(CLOSE_NOT_FOUND)
        else:
            await self._shut(CLOSE_NOT_LOGGED_IN if refused.code == "not_authenticated" else CLOSE_FORBIDDEN)

    async def _shut(self, code: int) -> None:
        await self.disconnect(code)
        self.access = None
        await self.close(code=code)

    # --- Messages from the hub ----------------------------------------------------------------------------

    async def room_frame(self, frame: dict[str, Any]) -> None:
        """A live event, in ``seq`` order, already encoded for members and for facilitators."""
        if self.on_hold is not None:
            self.on_hold.append(frame)
            return
        if self.access is None or frame["seq"] <= self.live_seq:
            return
        self.live_seq = frame["seq"]
        if frame["id"] in self.delivered:
            return
        if frame["author_id"] == self.user.pk:
            shaped = event_for_viewer(frame["wire"], user_id=self.user.pk, is_facilitator=self.access.is_facilitator)
            text = None if shaped is None else encode(shaped)
        else:
            text = frame["facilitator" if self.access.is_facilitator else "member"]
        if text is not None:
            self._remember(frame["id"])
            await self.send(text_data=text)

    async def room_text(self, message: dict[str, Any]) -> None:
        if self.access is not None:
            await self.send(text_data=message["text"])

    async def room_overflow(self, message: dict[str, Any]) -> None:
        """This socket fell too far behind (its client stopped reading): close it; the client resumes."""
        if self.access is not None:
            await self._shut(CLOSE_TRY_AGAIN)

    async def access_revoked(self, message: dict[str, Any]) -> None:
        if self.access is not None and message["board_id"] == self.access.session.board_id:
            await self._shut(CLOSE_FORBIDDEN)

    def _remember(self, event_id: int) -> None:
        self.delivered.add(event_id)
        if len(self.delivered) > DELIVERED_MEMORY:
            floor = max(self.delivered) - DELIVERED_MEMORY // 2
            self.delivered = {i for i in self.delivered if i > floor}

    async def _deliver(self, shaped: dict[str, Any]) -> None:
        self._remember(shaped["id"])
        await self.send_json(shaped)

    async def _presence(self, *, leave: bool = False) -> None:
        def changed_and_claimed() -> bool:
            if leave:
                changed = presence.leave(session_id=self.session_id, channel=self.channel_name)
            else:
                changed = presence.touch(session_id=self.session_id, channel=self.channel_name, user=self.user)
            return changed and presence.claim(session_id=self.session_id)

        if await database_sync_to_async(changed_and_claimed)():
            _in_background(self._presence_later())

    async def _presence_later(self) -> None:
        """Send the room's presence list once the debounce window closes (it holds every change made meanwhile)."""
        await asyncio.sleep(presence.DEBOUNCE)
        people = await database_sync_to_async(presence.people)(session_id=self.session_id)
        await self.channel_layer.group_send(
            session_group(self.session_id), {"type": "presence.update", "session": self.session_id, "users": people}
        )

    # --- Client messages ----------------------------------------------------------------------------------

    async def handle_heartbeat(self, message: dict[str, Any]) -> None:
        """Check access, keep presence fresh, let the process rejoin its groups, and send the latest visible id.

        The channel layer may have lost the process's group membership (a Redis restart) or dropped a
        message (over capacity) without anyone noticing; a client whose last id is behind ``last_id``
        sends ``resume`` and gets what it missed. The checks run after ``_heartbeat_delay`` in the background,
        and the socket goes on with its other messages and events meanwhile.
        """
        _in_background(self._heartbeat(_heartbeat_delay()))

    async def _heartbeat(self, delay: float) -> None:
        try:
            await self._heartbeat_checks(delay)
        except Exception:
            # As when a handler fails: close the socket, so that the client reconnects and resumes, rather than
            # leave it open without the answer that would tell it what it lacks.
            logger.exception("live room heartbeat failed")
            if self.access is not None:
                await self._shut(CLOSE_INTERNAL_ERROR)

    async def _heartbeat_checks(self, delay: float) -> None:
        if delay:
            await asyncio.sleep(delay)
        if self.access is None:
            return
        try:
            self.access, send_list, last_id = await self._heartbeat_state()
        except (NotFoundError, PermissionDeniedError) as exc:
            await self._shut_for(exc)
            return
        assert self.hub is not None
        self.hub.refresh()
        if send_list:
            _in_background(self._presence_later())
        # Behind the frames already handed to this socket, not ahead of them: sent at once, the answer would name
        # events still waiting in the inbox, and the client would resume for what is about to arrive anyway (a
        # room whose sockets beat together turned each heartbeat into a resume and its database reads).
        self.inbox.put_nowait({"type": "room.text", "text": encode({"type": "heartbeat", "last_id": last_id})})

    async def _heartbeat_state(self) -> tuple[SessionAccess, bool, int]:
        return await database_sync_to_async(_heartbeat_reads)(
            user=self.user, session_id=self.session_id, channel=self.channel_name
        )

    async def handle_resume(self, message: dict[str, Any]) -> None:
        """Send every event after ``after`` this user may see, in order, or ``resync`` when too many were missed."""
        after = message.get("after", 0)
        if isinstance(after, bool) or not isinstance(after, int) or after < 0:
            await self.send_error("invalid", "'after' must be a non-negative integer event id.")
            return
        if not await self._recheck():
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
        # Live frames up to ``newest_seq`` still in the inbox were part of this replay (or not for this viewer).
        self.live_seq = max(self.live_seq, newest_seq)
        await self.send_json({"type": "resumed", "last_id": missed[-1]["id"] if missed else after})

    async def _act(self, service: Callable[..., SessionEvent], message: dict[str, Any], *fields: str) -> None:
        """Call a live-room service with the named fields of ``message``; ack the sender or send the error."""
        assert self.access is not None
        arguments = {field: message[field] for field in fields if field in message}
        try:
            event = await database_sync_to_async(service)(
                access=self.access, user=self.user, client_msg_id=message.get("client_msg_id", ""), **arguments
            )
        except NotFoundError as exc:
            if exc.code == services.SESSION_GONE:
                await self._shut(CLOSE_NOT_FOUND)
                return
            await self.send_error(exc.code, exc.message, client_msg_id=message.get("client_msg_id"))
            return
        except PermissionDeniedError as exc:
            if exc.code in services.ACCESS_LOST:
                await self._shut(CLOSE_FORBIDDEN)
                return
            await self.send_error(exc.code, exc.message, client_msg_id=message.get("client_msg_id"))
            return
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
