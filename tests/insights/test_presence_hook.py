"""The live room writes the presence log that session attendance is counted from."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async

from cocreate.models import SessionPresence
from tests.boards.conftest import communicator, joined, room, token_header

pytestmark = pytest.mark.django_db(transaction=True)
__all__ = ["room"]  # the live room fixture of the boards tests


async def test_joining_the_room_logs_the_member_once_and_a_refused_socket_not_at_all(room):
    auth = await sync_to_async(token_header)(room.member)
    for _visit in range(2):
        comm = await joined(room.session.pk, auth)
        await comm.disconnect()
    rows = [row async for row in SessionPresence.objects.filter(session=room.session).values("user_id")]
    assert rows == [{"user_id": room.member.pk}]
    row = await SessionPresence.objects.aget(session=room.session, user=room.member)
    assert row.last_seen_at > row.first_joined_at

    outsider = await sync_to_async(token_header)(room.outsider)
    refused = communicator(room.session.pk, outsider)
    assert (await refused.connect())[0]
    assert (await refused.receive_output(timeout=2))["code"] == 4403
    await refused.wait()
    assert not await SessionPresence.objects.filter(user=room.outsider).aexists()
