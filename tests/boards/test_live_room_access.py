"""Who may open the live room socket, and the close code everyone else gets."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async

from boards import services
from boards.models import BoardMembership
from cocreate.roles import Role
from tests.boards.conftest import communicator, joined, receive_until, token_header
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


async def close_code(comm) -> int:
    connected, _ = await comm.connect()
    assert connected, "the room accepts first so that browsers can read the close code"
    message = await comm.receive_output(timeout=2)
    assert message["type"] == "websocket.close"
    await comm.wait()
    return message["code"]


async def test_anonymous_visitors_are_closed_with_4401(room):
    assert await close_code(communicator(room.session.pk, [])) == 4401


async def test_an_unknown_session_closes_with_4404(room):
    auth = await sync_to_async(token_header)(room.member)
    assert await close_code(communicator(room.session.pk + 999, auth)) == 4404


async def test_a_customer_who_is_not_a_member_is_closed_with_4403(room):
    auth = await sync_to_async(token_header)(room.outsider)
    assert await close_code(communicator(room.session.pk, auth)) == 4403


async def test_finance_staff_who_do_not_facilitate_are_closed_with_4403(room):
    finance = await sync_to_async(UserFactory)(roles=[Role.FINANCE], is_staff=True)
    auth = await sync_to_async(token_header)(finance)
    assert await close_code(communicator(room.session.pk, auth)) == 4403


async def test_a_member_who_has_not_accepted_the_charter_is_closed_with_4403(room):
    await BoardMembership.objects.filter(user=room.member).aupdate(charter_accepted_at=None)
    auth = await sync_to_async(token_header)(room.member)
    assert await close_code(communicator(room.session.pk, auth)) == 4403


async def test_a_member_who_accepted_an_older_charter_is_closed_with_4403(room):
    room.board.charter_version = "2026-2"
    await room.board.asave(update_fields=["charter_version"])
    auth = await sync_to_async(token_header)(room.member)
    assert await close_code(communicator(room.session.pk, auth)) == 4403


async def test_a_member_with_the_current_charter_joins_as_a_member(room):
    comm = await joined(room.session.pk, await sync_to_async(token_header)(room.member))
    presence = await receive_until(comm, "presence")
    assert [p["name"] for p in presence["users"]] == ["Mia Member"]
    await comm.disconnect()


@pytest.mark.parametrize("who", ["facilitator", "product_manager", "superuser"])
async def test_facilitators_product_managers_and_superusers_join_as_facilitators(room, who):
    if who == "facilitator":
        user = room.facilitator
    elif who == "product_manager":
        user = await sync_to_async(UserFactory)(roles=[Role.PRODUCT_MANAGER], is_staff=True)
    else:
        user = await sync_to_async(UserFactory)(is_staff=True, is_superuser=True)
    comm = communicator(room.session.pk, await sync_to_async(token_header)(user))
    assert (await comm.connect())[0]
    hello = await receive_until(comm, "hello")
    assert hello["is_facilitator"] is True
    await comm.disconnect()


async def test_a_session_cookie_logs_the_browser_in(room):
    from django.test import Client

    def cookie() -> bytes:
        client = Client()
        client.force_login(room.member)
        return f"sessionid={client.cookies['sessionid'].value}".encode()

    comm = communicator(room.session.pk, [(b"cookie", await sync_to_async(cookie)())])
    assert (await comm.connect())[0]
    hello = await receive_until(comm, "hello")
    assert hello["user"]["id"] == room.member.pk
    await comm.disconnect()


@pytest.mark.parametrize("origin", [(b"origin", b"https://evil.example"), None])
async def test_handshakes_from_another_origin_or_without_one_are_refused(room, origin):
    auth = await sync_to_async(token_header)(room.member)
    comm = communicator(room.session.pk, auth, origin=origin)
    connected, _code = await comm.connect()
    assert connected is False


async def test_removing_a_member_closes_their_open_socket_at_once(room):
    comm = await joined(room.session.pk, await sync_to_async(token_header)(room.member))
    await sync_to_async(services.board_member_remove)(board=room.board, user=room.member, by=room.facilitator)
    while True:
        message = await comm.receive_output(timeout=2)
        if message["type"] == "websocket.close":
            break
    assert message["code"] == 4403


async def test_a_changed_charter_cuts_off_the_member_on_their_next_message(room):
    comm = await joined(room.session.pk, await sync_to_async(token_header)(room.member))
    room.board.charter_version = "2026-2"
    await room.board.asave(update_fields=["charter_version"])
    await comm.send_json_to({"type": "chat.send", "body": "still here?", "client_msg_id": "c1"})
    while True:
        message = await comm.receive_output(timeout=2)
        if message["type"] == "websocket.close":
            break
    assert message["code"] == 4403
