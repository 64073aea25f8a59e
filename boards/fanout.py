"""Process-local fan-out of the live room: one channel-layer member per ASGI process and group, not per socket.

With channels-redis every member of a group costs Redis work on each ``group_send``, and every socket then
decodes and shapes the same event again. Here each ASGI process runs one ``RoomHub``: it joins the session
and user groups once, on its own channel, for all of its sockets; it receives each event once, puts the
events of a room in ``seq`` order, encodes them once per audience (members, facilitators) and hands the
text to its local sockets through their inboxes, where each socket's consumer takes it in turn with its
other messages (so a resume replay is never overtaken by live events).

Two processes broadcast independently, so events can arrive out of order, and the channel layer may drop
one (over capacity, or across a Redis restart). A late event waits up to ``GAP_WAIT`` for the ones before
it; then the missing ones are read from the database. The heartbeat's ``last_id`` remains the final net.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
import time
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any, Protocol

from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import BaseChannelLayer, get_channel_layer

from boards.events import event_for_viewer, session_group, user_group
from boards.selectors import event_wires_between, session_last_seq

logger = logging.getLogger(__name__)

GAP_WAIT = 0.5  # seconds a live event waits for an earlier one before the earlier one is read from the database
REJOIN_EVERY = 10.0  # seconds: how often heartbeats refresh this process's group memberships (a Redis restart)
INBOX_LIMIT = 2000  # frames a socket may fall behind before it is closed (it resumes on reconnect)


class RoomSocket(Protocol):
    """What the hub needs of a live-room consumer."""

    session_id: int
    inbox: asyncio.Queue[dict[str, Any]]

    @property
    def user_id(self) -> int: ...


@dataclass(eq=False)
class Room:
    session_id: int
    sockets: set[RoomSocket] = field(default_factory=set)
    # The last seq passed on (None until the room's newest seq has been read); later ones wait in ``held``.
    live_seq: int | None = None
    held: dict[int, dict[str, Any]] = field(default_factory=dict)
    repairing: bool = False
    ready: asyncio.Event = field(default_factory=asyncio.Event)  # set once ``live_seq`` is known


def encode(content: dict[str, Any]) -> str:
    return json.dumps(content, ensure_ascii=False, separators=(",", ":"))


def event_frame(wire: dict[str, Any]) -> dict[str, Any]:
    """The inbox message for one event: its text for members and for facilitators, encoded once each.

    The author may see more (their own anonymous question, their ``client_msg_id``); their socket shapes the
    event itself from ``wire``.
    """
    member = event_for_viewer(wire, user_id=None, is_facilitator=False)
    facilitator = event_for_viewer(wire, user_id=None, is_facilitator=True)
    return {
        "type": "room.frame",
        "seq": wire["seq"],
        "id": wire["id"],
        "author_id": wire["author_id"],
        "member": None if member is None else encode(member),
        "facilitator": None if facilitator is None else encode(facilitator),
        "wire": wire,
    }


class RoomHub:
    """The live rooms of one ASGI process (one event loop) on one channel layer."""

    def __init__(self, layer: BaseChannelLayer, loop: asyncio.AbstractEventLoop) -> None:
        self.layer = layer
        self.loop = loop
        self.channel = ""
        self.rooms: dict[int, Room] = {}
        self.users: dict[int, set[RoomSocket]] = {}
        self.lock = asyncio.Lock()  # group_add/group_discard of this process happen one at a time, in order
        self.rejoined_at = time.monotonic()
        self.reader: asyncio.Task[None] | None = None
        self.tasks: set[asyncio.Task[Any]] = set()

    # --- Sockets joining and leaving ------------------------------------------------------------------------

    async def join(self, socket: RoomSocket) -> None:
        """Deliver the room's events and the user's revocations to ``socket`` from now on."""
        async with self.lock:
            if not self.channel:
                # The default prefix, as every consumer's: channels-redis reads one process's channels through one
                # lock, blocking on the holder's "<prefix>.<client>!" list until something arrives there. Under
                # another prefix this reader and the consumers' could only take turns, each starving the other.
                self.channel = await self.layer.new_channel()
                self.reader = self.loop.create_task(self._read(), context=contextvars.Context())
            room = self.rooms.get(socket.session_id)
            fresh = room is None
            if room is None:
                room = self.rooms[socket.session_id] = Room(socket.session_id)
                await self.layer.group_add(session_group(socket.session_id), self.channel)
            room.sockets.add(socket)
            sockets = self.users.setdefault(socket.user_id, set())
            if not sockets:
                await self.layer.group_add(user_group(socket.user_id), self.channel)
            sockets.add(socket)
        if not fresh:
            # The socket reads its own newest seq next; it must not be older than the room's.
            await room.ready.wait()
            if room.live_seq is None:
                raise RuntimeError("the live room could not be opened in this process")
            return
        try:
            # Read after joining the group: whatever commits later arrives by the group or is repaired.
            newest = await database_sync_to_async(session_last_seq)(session_id=room.session_id)
            room.live_seq = newest
            room.held = {seq: wire for seq, wire in room.held.items() if seq > newest}
        except BaseException:
            if self.rooms.get(room.session_id) is room:
                del self.rooms[room.session_id]  # the next socket to join tries again
            raise
        finally:
            room.ready.set()
        self._release(room)
        self._repair_soon(room)  # events that arrived while the newest seq was read may be waiting for a gap

    def leave(self, socket: RoomSocket) -> None:
        """Stop delivering to ``socket`` at once; the process leaves a group once its last socket did."""
        room = self.rooms.get(socket.session_id)
        if room is not None:
            room.sockets.discard(socket)
            if not room.sockets:
                del self.rooms[socket.session_id]
                self._spawn(self._discard(session_group(socket.session_id), lambda: socket.session_id in self.rooms))
        sockets = self.users.get(socket.user_id)
        if sockets is not None:
            sockets.discard(socket)
            if not sockets:
                del self.users[socket.user_id]
                self._spawn(self._discard(user_group(socket.user_id), lambda: socket.user_id in self.users))

    async def _discard(self, group: str, rejoined: Any) -> None:
        async with self.lock:
            if not rejoined():  # a socket may have joined again meanwhile
                await self.layer.group_discard(group, self.channel)

    def refresh(self) -> None:
        """Re-add this process's group memberships now and then (a Redis restart forgets them), and read what
        the channel layer dropped after the last event it delivered (nothing follows it to reveal the gap)."""
        if time.monotonic() - self.rejoined_at >= REJOIN_EVERY:
            self.rejoined_at = time.monotonic()
            self._spawn(self._rejoin(catch_up=True))

    async def _rejoin(self, *, catch_up: bool = False) -> None:
        await self._join_groups()
        if catch_up:
            for room in list(self.rooms.values()):
                await self._catch_up(room)

    async def _join_groups(self) -> None:
        async with self.lock:
            for session_id in list(self.rooms):
                await self.layer.group_add(session_group(session_id), self.channel)
            for user_id in list(self.users):
                await self.layer.group_add(user_group(user_id), self.channel)

    # --- Messages from the channel layer ------------------------------------------------------------------

    async def _read(self) -> None:
        failures = 0
        while True:
            try:
                message = await self.layer.receive(self.channel)
            except asyncio.CancelledError:
                raise
            except Exception:
                # Redis went away: wait, then join the groups again (a restarted Redis has none of them).
                failures += 1
                logger.warning("live room hub lost the channel layer", exc_info=failures == 1)
                await asyncio.sleep(min(5.0, 0.2 * 2**failures))
                try:
                    await self._rejoin()
                    failures = 0
                except Exception:  # noqa: BLE001 - still down: the next receive fails again and we wait longer
                    logger.info("live room hub could not rejoin its groups yet")
                    continue
                # Events broadcast while the layer was away never arrive: read them from the database now
                # rather than wait for the next event or the clients' heartbeats.
                for room in list(self.rooms.values()):
                    self._spawn(self._catch_up(room))
                continue
            try:
                self.dispatch(message)
            except Exception:
                logger.exception("live room hub could not handle %s", message.get("type"))

    def dispatch(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == "session.event":
            self._event(message["session"], message["event"])
        elif kind == "presence.update":
            room = self.rooms.get(message["session"])
            if room is not None:
                text = encode({"type": "presence", "users": message["users"]})
                self._hand(room.sockets, {"type": "room.text", "text": text})
        elif kind == "access.revoked":
            self._hand(self.users.get(message["user_id"], ()), message)

    def publish_soon(self, group: str, message: dict[str, Any]) -> None:
        self._spawn(self.publish(group, message))

    async def publish(self, group: str, message: dict[str, Any]) -> None:
        """Broadcast to every process; this process's own sockets get events at once, not through Redis."""
        if message.get("type") == "session.event":
            self.dispatch(message)  # the copy coming back through the layer is then a duplicate and dropped
        try:
            await self.layer.group_send(group, message)
        except Exception:
            # Stored, not broadcast: other processes repair the gap from the database at their next event,
            # and clients resume after a heartbeat.
            logger.exception("live room broadcast failed")

    def _event(self, session_id: int, wire: dict[str, Any]) -> None:
        room = self.rooms.get(session_id)
        if room is None or (room.live_seq is not None and wire["seq"] <= room.live_seq):
            return
        room.held[wire["seq"]] = wire
        self._release(room)
        self._repair_soon(room)

    def _repair_soon(self, room: Room) -> None:
        """Read what is missing from the database after ``GAP_WAIT`` unless a repair is under way already."""
        if room.held and not room.repairing and room.live_seq is not None:
            room.repairing = True
            self._spawn(self._repair_later(room))

    def _release(self, room: Room) -> None:
        if room.live_seq is None:
            return
        while room.live_seq + 1 in room.held:
            room.live_seq += 1
            self._hand(room.sockets, event_frame(room.held.pop(room.live_seq)))

    def _hand(self, sockets: Any, message: dict[str, Any]) -> None:
        for socket in list(sockets):
            if socket.inbox.qsize() >= INBOX_LIMIT:
                # A socket this far behind is not reading; drop it from delivery and let it reconnect and resume.
                self.leave(socket)
                socket.inbox.put_nowait({"type": "room.overflow"})
                continue
            socket.inbox.put_nowait(message)

    async def _repair_later(self, room: Room) -> None:
        """Fill the gaps before the held events from the database, as long as events are held.

        Events keep arriving while the database is read: one beyond the range read stays held, and the seqs
        between it and the range may still be on their way, so they get their own ``GAP_WAIT`` and read (never
        skipped). Only a seq inside the range read that the database lacks is skipped, which the row lock rules
        out.
        """
        try:
            while True:
                await asyncio.sleep(GAP_WAIT)
                if not room.held or self.rooms.get(room.session_id) is not room or room.live_seq is None:
                    return
                upto = max(room.held)
                missing = await database_sync_to_async(event_wires_between)(
                    session_id=room.session_id, after_seq=room.live_seq, upto_seq=upto
                )
                for wire in missing:
                    if wire["seq"] > room.live_seq:
                        room.held.setdefault(wire["seq"], wire)
                self._release(room)
                while stuck := [seq for seq in room.held if seq <= upto]:
                    logger.error("live room %s lacks seq %s in the database", room.session_id, room.live_seq + 1)
                    room.live_seq = min(stuck) - 1
                    self._release(room)
        except Exception:
            logger.exception("live room gap repair failed; the heartbeat's last_id lets clients resume")
        finally:
            room.repairing = False

    async def _catch_up(self, room: Room) -> None:
        try:
            if room.live_seq is None:
                return
            newest = await database_sync_to_async(session_last_seq)(session_id=room.session_id)
            if room.live_seq is None or newest <= room.live_seq:
                return
            for wire in await database_sync_to_async(event_wires_between)(
                session_id=room.session_id, after_seq=room.live_seq, upto_seq=newest
            ):
                if wire["seq"] > room.live_seq:
                    room.held.setdefault(wire["seq"], wire)
            self._release(room)
            self._repair_soon(room)
        except Exception:
            logger.exception("live room catch-up failed; the heartbeat's last_id lets clients resume")

    def _spawn(self, coroutine: Coroutine[Any, Any, Any]) -> None:
        # A fresh context: asgiref marks the context of a database call in progress, and a task that inherited
        # that mark could not make database calls of its own ("would deadlock").
        task = self.loop.create_task(coroutine, context=contextvars.Context())
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)


_hub: RoomHub | None = None


def room_hub(layer: BaseChannelLayer) -> RoomHub:
    """This process's hub (made on first use, and again for a new event loop or layer, as in tests)."""
    global _hub
    loop = asyncio.get_running_loop()
    if _hub is None or _hub.loop is not loop or _hub.layer is not layer:
        _hub = RoomHub(layer, loop)
    return _hub


def publish(group: str, message: dict[str, Any]) -> None:
    """Send to a channel-layer group from sync code (a service's on-commit callback).

    In an ASGI process the send is handed to the hub's event loop and not waited for: the database thread
    goes on with the next message at once. Elsewhere (Celery, management commands) it is sent and waited for.
    """
    hub = _hub
    if hub is not None and hub.loop.is_running() and not hub.loop.is_closed():
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is not hub.loop:
            # Not run_coroutine_threadsafe: its task would inherit this database thread's context (see _spawn).
            hub.loop.call_soon_threadsafe(hub.publish_soon, group, message, context=contextvars.Context())
            return
    layer = get_channel_layer()
    if layer is not None:
        async_to_sync(layer.group_send)(group, message)
