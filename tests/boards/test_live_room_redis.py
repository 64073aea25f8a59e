"""On the Redis channel layer (only when REDIS_URL is set): an idle socket survives, events cross processes."""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings

from tests.boards.conftest import joined, receive_event, receive_until, token_header

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
