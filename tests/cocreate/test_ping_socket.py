from __future__ import annotations

import json

import pytest
from channels.testing import WebsocketCommunicator
from django.test import override_settings
from rest_framework.authtoken.models import Token

from cocreate.asgi import application
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)
ORIGIN = (b"origin", b"http://testserver")


def communicator(*headers: tuple[bytes, bytes]) -> WebsocketCommunicator:
    return WebsocketCommunicator(application, "/ws/ping/", headers=[ORIGIN, *headers])


async def test_a_ping_gets_a_pong() -> None:
    socket = communicator()
    connected, _ = await socket.connect()
    assert connected
    await socket.send_json_to({"type": "ping", "echo": "hello"})
    assert await socket.receive_json_from() == {"type": "pong", "user": None, "echo": "hello"}
    await socket.disconnect()


async def test_a_handshake_from_another_origin_is_refused() -> None:
    socket = WebsocketCommunicator(application, "/ws/ping/", headers=[(b"origin", b"http://evil.example")])
    connected, _ = await socket.connect()
    assert not connected


async def test_a_handshake_without_an_origin_is_refused() -> None:
    socket = WebsocketCommunicator(application, "/ws/ping/")
    connected, _ = await socket.connect()
    assert not connected


async def test_a_token_in_the_handshake_identifies_the_user() -> None:
    from asgiref.sync import sync_to_async

    user = await sync_to_async(UserFactory)(email="bot@example.com")
    token = await sync_to_async(Token.objects.create)(user=user)
    socket = communicator((b"authorization", f"Token {token.key}".encode()))
    assert (await socket.connect())[0]
    await socket.send_json_to({"type": "ping"})
    assert (await socket.receive_json_from())["user"] == "bot@example.com"
    await socket.disconnect()


async def test_a_wrong_token_leaves_the_user_anonymous() -> None:
    socket = communicator((b"authorization", b"Token not-a-real-token"))
    assert (await socket.connect())[0]
    await socket.send_json_to({"type": "ping"})
    assert (await socket.receive_json_from())["user"] is None
    await socket.disconnect()


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("{nope", "malformed"),
        ("[1, 2]", "malformed"),
        ('{"kind": "ping"}', "malformed"),
        ('{"type": "explode"}', "unknown_type"),
    ],
)
async def test_malformed_messages_get_an_error_event_and_the_socket_stays_open(raw: str, code: str) -> None:
    socket = communicator()
    assert (await socket.connect())[0]
    await socket.send_to(text_data=raw)
    assert (await socket.receive_json_from())["code"] == code
    await socket.send_json_to({"type": "ping"})
    assert (await socket.receive_json_from())["type"] == "pong"
    await socket.disconnect()


@override_settings(WS_MAX_MESSAGE_BYTES=256)
async def test_an_oversize_message_is_refused_and_the_socket_closed() -> None:
    socket = communicator()
    assert (await socket.connect())[0]
    await socket.send_to(text_data=json.dumps({"type": "ping", "echo": "x" * 300}))
    assert (await socket.receive_json_from())["code"] == "too_big"
    assert (await socket.receive_output())["code"] == 1009
