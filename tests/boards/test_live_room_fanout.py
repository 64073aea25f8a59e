"""The live room's fan-out: each ASGI process joins a room once and hands each event to its own sockets.

Two ``RoomHub`` instances on one channel layer stand for two ASGI processes; each test says which process a
socket connects to. On the Redis layer (REDIS_URL set) the hubs talk through Redis like real processes do.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import contextmanager
from typing import Any
from unittest import mock

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer

from boards import consumers, fanout, services
from boards.fanout import RoomHub
from tests.boards.conftest import joined, no_event, receive_event, receive_until, token_header

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
async def processes() -> AsyncIterator[tuple[RoomHub, RoomHub]]:
    loop = asyncio.get_running_loop()
    layer = get_channel_layer()
    hubs = (RoomHub(layer, loop), RoomHub(layer, loop))
    yield hubs
    for hub in hubs:
        for task in [hub.reader, *hub.tasks]:
            if task is not None:
                task.cancel()
        await asyncio.gather(*(t for t in [hub.reader, *hub.tasks] if t is not None), return_exceptions=True)


@contextmanager
def on(hub: RoomHub) -> Any:
    """Sockets connected inside this block belong to ``hub``'s process."""
    with mock.patch("boards.consumers.room_hub", return_value=hub):
        yield


async def join(hub: RoomHub, session_id: int, user: Any) -> Any:
    with on(hub):
        return await joined(session_id, await sync_to_async(token_header)(user))


async def until(condition: Callable[[], bool], *, timeout: float = 2) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached"
        await asyncio.sleep(0.02)


async def test_an_event_reaches_the_sockets_of_both_processes_once(room, processes):
    a, b = processes
    member = await join(a, room.session.pk, room.member)
    peer = await join(b, room.session.pk, room.member2)
    host = await join(b, room.session.pk, room.facilitator)
    await member.send_json_to({"type": "chat.send", "body": "to everyone", "client_msg_id": "x-1"})
    ack = await receive_until(member, "ack")
    events = []
    for comm in (member, peer, host):
        events.append(await receive_event(comm, "chat.message"))
        assert await no_event(comm)
    assert [(e["id"], e["payload"]["body"]) for e in events] == [(ack["id"], "to everyone")] * 3
    # Only the author gets their client_msg_id back.
    assert [e.get("client_msg_id") for e in events] == ["x-1", None, None]
    for comm in (member, peer, host):
        await comm.disconnect()


async def test_a_process_joins_the_room_group_once_however_many_sockets_it_holds(room, processes):
    layer = get_channel_layer()
    if not hasattr(layer, "groups"):
        pytest.skip("reads the in-memory layer's groups")
    a, b = processes
    sockets = [
        await join(a, room.session.pk, room.member),
        await join(a, room.session.pk, room.member2),
        await join(b, room.session.pk, room.facilitator),
    ]
    assert set(layer.groups[f"session-{room.session.pk}"]) == {a.channel, b.channel}
    for comm in sockets:
        await comm.disconnect()
    await until(lambda: not layer.groups.get(f"session-{room.session.pk}"))
    assert a.rooms == {}
    assert b.rooms == {}


async def test_each_audience_is_shaped_once_and_anonymity_holds_across_processes(room, processes):
    a, b = processes
    asker = await join(a, room.session.pk, room.member)
    peers = [await join(b, room.session.pk, room.member2), await join(a, room.session.pk, room.member2)]
    host = await join(b, room.session.pk, room.facilitator)
    shaped = []
    real = fanout.event_for_viewer

    def counting(wire: dict[str, Any], **kwargs: Any) -> Any:
        shaped.append(kwargs["is_facilitator"])
        return real(wire, **kwargs)

    with mock.patch("boards.fanout.event_for_viewer", counting):
        await asker.send_json_to({"type": "question.ask", "body": "Who pays?", "anonymous": True})
        mine = await receive_event(asker, "question.asked")
        seen = [await receive_event(comm, "question.asked") for comm in peers]
        hosted = await receive_event(host, "question.asked")
    assert mine["payload"]["author"]["id"] == room.member.pk
    assert [event["payload"]["author"] for event in seen] == [None, None]
    assert hosted["payload"]["author"]["id"] == room.member.pk
    # Once for members and once for facilitators in each process, not once per socket.
    assert sorted(shaped) == [False, False, True, True]
    for comm in (asker, *peers, host):
        await comm.disconnect()


async def test_a_removed_member_on_another_process_is_closed_at_once_and_gets_nothing_more(room, processes):
    a, b = processes
    member = await join(a, room.session.pk, room.member)
    removed = await join(b, room.session.pk, room.member2)
    await sync_to_async(services.board_member_remove)(board=room.board, user=room.member2, by=room.facilitator)
    while (message := await removed.receive_output(timeout=2))["type"] != "websocket.close":
        assert message.get("text") is None or '"kind":"chat.message"' not in message["text"]
    assert message["code"] == 4403
    await until(lambda: room.member2.pk not in b.users and room.session.pk not in b.rooms)
    await member.send_json_to({"type": "chat.send", "body": "after the removal"})
    assert (await receive_event(member, "chat.message"))["payload"]["body"] == "after the removal"
    await member.disconnect()


async def test_a_process_that_lost_its_group_catches_up_by_heartbeat_and_rejoins(room, processes, monkeypatch):
    a, b = processes
    member = await join(a, room.session.pk, room.member)
    peer = await join(b, room.session.pk, room.member2)
    await peer.send_json_to({"type": "resume", "after": 0})
    await receive_until(peer, "resumed")
    # As after a Redis restart: the layer forgot that process b is in the room.
    await get_channel_layer().group_discard(f"session-{room.session.pk}", b.channel)
    await member.send_json_to({"type": "chat.send", "body": "lost on the bus"})
    ack = await receive_until(member, "ack")
    assert await no_event(peer)
    monkeypatch.setattr(fanout, "REJOIN_EVERY", 0)
    await peer.send_json_to({"type": "heartbeat"})
    assert (await receive_until(peer, "heartbeat"))["last_id"] == ack["id"]
    await peer.send_json_to({"type": "resume", "after": 0})
    assert (await receive_event(peer, "chat.message"))["payload"]["body"] == "lost on the bus"
    await member.send_json_to({"type": "chat.send", "body": "live again"})
    assert (await receive_event(peer, "chat.message"))["payload"]["body"] == "live again"
    assert await no_event(peer)
    for comm in (member, peer):
        await comm.disconnect()


async def test_a_socket_that_stops_reading_is_closed_instead_of_queueing_forever(room, processes, monkeypatch):
    a, _b = processes
    monkeypatch.setattr(fanout, "INBOX_LIMIT", 3)
    member = await join(a, room.session.pk, room.member)
    slow = await join(a, room.session.pk, room.member2)
    (socket,) = [s for s in a.rooms[room.session.pk].sockets if s.user_id == room.member2.pk]
    frame = {"type": "room.text", "text": "{}"}
    for _ in range(3):
        socket.inbox.put_nowait(frame)  # as if it had not read these yet
    a.dispatch({"type": "presence.update", "session": room.session.pk, "users": []})
    assert socket not in a.rooms[room.session.pk].sockets
    while (message := await slow.receive_output(timeout=2))["type"] != "websocket.close":
        pass
    assert message["code"] == 1013
    await member.disconnect()


async def test_a_gap_behind_an_event_stored_by_this_process_is_repaired_from_the_database(room):
    from boards.selectors import session_access

    member = await joined(room.session.pk, await sync_to_async(token_header)(room.member))
    peer = await joined(room.session.pk, await sync_to_async(token_header)(room.member2))
    captured: list[tuple[str, dict[str, Any]]] = []

    def write_two_and_broadcast_the_second() -> None:
        access = session_access(user=room.member, session_id=room.session.pk)
        with mock.patch("boards.events.group_send", side_effect=lambda *sent: captured.append(sent)):
            for body in ("dropped", "kept"):
                services.chat_send(access=access, user=room.member, body=body)
        fanout.publish(*captured[1])  # from the database thread, as the on-commit callback does

    await sync_to_async(write_two_and_broadcast_the_second)()
    assert [(await receive_event(peer, "chat.message"))["payload"]["body"] for _ in range(2)] == ["dropped", "kept"]
    await member.disconnect()
    await peer.disconnect()


async def test_a_process_whose_channel_layer_read_failed_catches_up_from_the_database(room, processes, monkeypatch):
    a, b = processes
    member = await join(a, room.session.pk, room.member)
    peer = await join(b, room.session.pk, room.member2)
    layer = get_channel_layer()
    await layer.group_discard(f"session-{room.session.pk}", b.channel)  # what a Redis restart forgets
    await member.send_json_to({"type": "chat.send", "body": "sent while Redis was away"})
    await receive_until(member, "ack")
    assert await no_event(peer)
    real_receive = layer.receive
    failed: list[str] = []

    async def receive_failing_once(channel: str) -> Any:
        if channel == b.channel and not failed:
            failed.append(channel)
            raise ConnectionError("Redis went away")
        return await real_receive(channel)

    monkeypatch.setattr(layer, "receive", receive_failing_once)
    assert b.reader is not None
    b.reader.cancel()  # the reader is waiting in the old receive; start it again on the failing one
    await asyncio.gather(b.reader, return_exceptions=True)
    b.reader = asyncio.get_running_loop().create_task(b._read())
    event = await receive_event(peer, "chat.message", timeout=3)
    assert event["payload"]["body"] == "sent while Redis was away"
    assert failed == [b.channel]
    await member.send_json_to({"type": "chat.send", "body": "and after"})
    assert (await receive_event(peer, "chat.message", timeout=3))["payload"]["body"] == "and after"
    for comm in (member, peer):
        await comm.disconnect()


def stored_unsent(room: Any, *bodies: str) -> list[tuple[str, dict[str, Any]]]:
    """Store chat messages by ``room.member`` without broadcasting them; their broadcasts are returned."""
    from boards.selectors import session_access

    captured: list[tuple[str, dict[str, Any]]] = []
    access = session_access(user=room.member, session_id=room.session.pk)
    with mock.patch("boards.events.group_send", side_effect=lambda *sent: captured.append(sent)):
        for body in bodies:
            services.chat_send(access=access, user=room.member, body=body)
    return captured


async def test_an_event_arriving_during_a_gap_repair_never_makes_the_repair_skip_one_still_on_its_way(
    room, processes, monkeypatch
):
    """Repair reads up to the newest held seq; one held later waits for its own repair, the seqs before it too."""
    _a, b = processes
    monkeypatch.setattr(fanout, "GAP_WAIT", 0.05)
    peer = await join(b, room.session.pk, room.member2)
    sent = await sync_to_async(stored_unsent)(room, "one", "two", "three", "four")
    real = fanout.event_wires_between

    reads: list[int] = []

    def read_while_four_arrives(**kwargs: Any) -> Any:
        wires = real(**kwargs)
        if not reads:
            b.loop.call_soon_threadsafe(b.dispatch, sent[3][1])  # "four" overtakes "three" meanwhile
        reads.append(kwargs["upto_seq"])
        return wires

    monkeypatch.setattr(fanout, "event_wires_between", read_while_four_arrives)
    b.dispatch(sent[1][1])  # "two" comes first: "one" is repaired from the database
    await until(lambda: bool(reads))
    await asyncio.sleep(0.01)
    b.dispatch(sent[2][1])  # "three" arrives late, after that repair finished
    bodies = [(await receive_event(peer, "chat.message"))["payload"]["body"] for _ in range(4)]
    assert bodies == ["one", "two", "three", "four"]
    assert await no_event(peer)
    await peer.disconnect()


async def test_an_event_held_behind_a_lost_one_is_repaired_without_waiting_for_another_event(
    room, processes, monkeypatch
):
    _a, b = processes
    monkeypatch.setattr(fanout, "GAP_WAIT", 0.05)
    peer = await join(b, room.session.pk, room.member2)
    sent = await sync_to_async(stored_unsent)(room, "one", "two", "lost", "last")
    real = fanout.event_wires_between

    reads: list[int] = []

    def read_while_last_arrives(**kwargs: Any) -> Any:
        wires = real(**kwargs)
        if not reads:
            b.loop.call_soon_threadsafe(b.dispatch, sent[3][1])  # "lost" is never broadcast
        reads.append(kwargs["upto_seq"])
        return wires

    monkeypatch.setattr(fanout, "event_wires_between", read_while_last_arrives)
    b.dispatch(sent[1][1])
    bodies = [(await receive_event(peer, "chat.message"))["payload"]["body"] for _ in range(4)]
    assert bodies == ["one", "two", "lost", "last"]
    await peer.disconnect()


async def test_a_reconnecting_socket_gets_its_replay_before_any_live_event(room, processes):
    """Live events reaching the socket before its ``resume`` is handled wait for the replay of older ones."""
    a, b = processes
    member = await join(a, room.session.pk, room.member)
    await member.send_json_to({"type": "chat.send", "body": "missed while away"})
    await receive_until(member, "ack")
    peer = await join(b, room.session.pk, room.member2)  # reconnected; its last id is from before "missed"
    await member.send_json_to({"type": "chat.send", "body": "live after the reconnect"})
    await receive_until(member, "ack")
    await asyncio.sleep(0.1)  # the live frame reaches the socket before its resume
    await peer.send_json_to({"type": "resume", "after": 0})
    events = []
    while (message := await peer.receive_json_from(timeout=2))["type"] != "resumed":
        if message["type"] == "event":
            events.append(message["payload"]["body"])
    assert events == ["missed while away", "live after the reconnect"]
    assert await no_event(peer, within=1)
    for comm in (member, peer):
        await comm.disconnect()


async def test_the_last_event_the_channel_layer_dropped_reaches_the_sockets_at_the_next_heartbeat(
    room, processes, monkeypatch
):
    """No later event reveals that gap; the process reads it from the database when it refreshes its groups."""
    _a, b = processes
    peer = await join(b, room.session.pk, room.member2)
    await peer.send_json_to({"type": "resume", "after": 0})
    await receive_until(peer, "resumed")
    await sync_to_async(stored_unsent)(room, "dropped by the layer")
    monkeypatch.setattr(fanout, "REJOIN_EVERY", 0)
    await peer.send_json_to({"type": "heartbeat"})
    assert (await receive_event(peer, "chat.message"))["payload"]["body"] == "dropped by the layer"
    assert await no_event(peer)
    await peer.disconnect()


async def test_frames_reaching_a_socket_while_it_handles_a_client_message_keep_their_order(
    room, processes, monkeypatch
):
    """The inbox reader may take a frame while the socket awaits the database; later frames never overtake it."""
    a, b = processes
    member = await join(a, room.session.pk, room.member)
    peer = await join(b, room.session.pk, room.member2)
    await peer.send_json_to({"type": "resume", "after": 0})
    await receive_until(peer, "resumed")
    real = consumers.SessionConsumer._act
    arrived = asyncio.Event()

    async def slow_act(self: Any, *args: Any) -> None:
        if self.user.pk == room.member2.pk:
            await arrived.wait()  # both events reach the socket while its own message is being handled
        await real(self, *args)

    monkeypatch.setattr(consumers.SessionConsumer, "_act", slow_act)
    await peer.send_json_to({"type": "reaction.add", "emoji": "👍"})
    await asyncio.sleep(0.1)
    for body in ("first", "second"):
        await member.send_json_to({"type": "chat.send", "body": body})
        await receive_until(member, "ack")
        await asyncio.sleep(0.1)
    arrived.set()
    kinds = [(await receive_event(peer))["kind"] for _ in range(3)]
    assert kinds == ["chat.message", "chat.message", "reaction.added"]
    for comm in (member, peer):
        await comm.disconnect()


async def test_a_heartbeat_answer_follows_the_events_handed_to_the_socket_before_it(room, processes, monkeypatch):
    """Sent ahead of them, its ``last_id`` would name events the client has not got yet, and it would resume."""
    a, b = processes
    member = await join(a, room.session.pk, room.member)
    peer = await join(b, room.session.pk, room.member2)
    await peer.send_json_to({"type": "resume", "after": 0})
    await receive_until(peer, "resumed")
    real = consumers.SessionConsumer._heartbeat_state
    arrived = asyncio.Event()

    async def slow_reads(self: Any) -> Any:
        await arrived.wait()  # both events reach the socket while its heartbeat is being answered
        return await real(self)

    monkeypatch.setattr(consumers.SessionConsumer, "_heartbeat_state", slow_reads)
    await peer.send_json_to({"type": "heartbeat"})
    await asyncio.sleep(0.1)
    ids = []
    for body in ("first", "second"):
        await member.send_json_to({"type": "chat.send", "body": body})
        ids.append((await receive_until(member, "ack"))["id"])
        await asyncio.sleep(0.1)
    arrived.set()
    seen = []
    while len(seen) < 3:
        message = await peer.receive_json_from(timeout=2)
        if message["type"] in ("event", "heartbeat"):
            seen.append((message["type"], message.get("id", message.get("last_id"))))
    assert seen == [("event", ids[0]), ("event", ids[1]), ("heartbeat", ids[1])]
    for comm in (member, peer):
        await comm.disconnect()
