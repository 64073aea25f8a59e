"""On the Redis channel layer (only when REDIS_URL is set): an idle socket survives, events cross processes."""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings

from cocreate.asgi import application
from ideas import services
from ideas.models import Notification
from tests.boards.conftest import ORIGIN, joined, receive_event, receive_until, token_header

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL (the Redis channel layer)"),
]


async def test_an_idle_socket_outlives_the_redis_read_timeout_and_still_receives(room):
    member = await joined(room.session.pk, await sync_to_async(token_header)(room.member))
    peer = await joined(room.session.pk, await sync_to_async(token_header)(room.member2))
    await asyncio.sleep(7)  # longer than channels-redis' 5 s blocking read, which killed idle sockets on redis-py 8
    await peer.send_json_to({"type": "chat.send", "body": "still there?"})
    assert (await receive_event(member, "chat.message", timeout=5))["payload"]["body"] == "still there?"
    await member.send_json_to({"type": "heartbeat"})
    await receive_until(member, "heartbeat", timeout=5)
    await member.disconnect()
    await peer.disconnect()


def _notify(user, text: str) -> None:
    services.notify(users=[user], kind=Notification.Kind.STATUS, idea=None, message=text, params={})


async def _presence_ids(comm) -> list[int]:
    return [user["id"] for user in (await receive_until(comm, "presence", timeout=4))["users"]]


async def test_a_room_and_a_notification_socket_in_one_process_both_get_their_messages(room):
    """channels-redis reads all of a process's channels under one lock, and the holder keeps blocking on its own
    real channel until something arrives there. The room hub's channel must share the consumers' real channel,
    or the two readers can only take turns: two messages in a row for one of them and the second waits for a
    message for the other (seen: a live room's presence list stayed empty once every page had the
    notification socket)."""
    member = await joined(room.session.pk, await sync_to_async(token_header)(room.member))
    notes = WebsocketCommunicator(
        application, "/ws/notifications/", headers=[*await sync_to_async(token_header)(room.member), ORIGIN]
    )
    connected, _ = await notes.connect()
    assert connected
    await receive_until(notes, "hello")
    assert room.member.pk in await _presence_ids(member)
    await asyncio.sleep(0.5)  # both readers are now waiting in Redis, nothing else is on its way

    for text in ("first", "second"):
        await sync_to_async(_notify)(room.member, text)
        assert (await receive_until(notes, "notification", timeout=3))["text"] == text

    peer = await joined(room.session.pk, await sync_to_async(token_header)(room.member2))
    while room.member2.pk not in await _presence_ids(member):
        pass
    await peer.disconnect()
    while room.member2.pk in await _presence_ids(member):
        pass
    for comm in (member, notes):
        await comm.disconnect()
