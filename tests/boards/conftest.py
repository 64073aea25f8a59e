"""A board with a live session, its people (two members, a facilitator) and WebSocket helpers."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

import pytest
from channels.testing import WebsocketCommunicator
from django.utils import timezone
from rest_framework.authtoken.models import Token

from boards.models import Board, Session
from cocreate.asgi import application
from cocreate.models import User
from cocreate.roles import Role
from tests.boards.factories import AgendaItemFactory, BoardFactory, MembershipFactory, SessionFactory
from tests.factories import OrganisationFactory, UserFactory

ORIGIN = (b"origin", b"http://testserver")


@dataclass
class Room:
    board: Board
    session: Session
    member: User
    member2: User
    facilitator: User
    outsider: User
    agenda: list[Any]


@pytest.fixture(autouse=True)
def _fresh_channel_layer(fresh_channel_layer: None) -> None:
    """Every live-room test gets an empty channel layer of its own (see ``tests/conftest.py``)."""


@pytest.fixture
def room(db: None) -> Room:
    board = BoardFactory()
    facilitator = UserFactory(is_staff=True, display_name="Fran Facilitator")
    board.facilitators.add(facilitator)
    member = UserFactory(
        roles=[Role.BOARD_MEMBER], organisation=OrganisationFactory(tier="gold"), display_name="Mia Member"
    )
    member2 = UserFactory(roles=[Role.BOARD_MEMBER], display_name="Max Member")
    MembershipFactory(board=board, user=member)
    MembershipFactory(board=board, user=member2)
    outsider = UserFactory(roles=[Role.CUSTOMER])
    session = SessionFactory(board=board, starts_at=timezone.now() - datetime.timedelta(minutes=5))
    agenda = [AgendaItemFactory(session=session, order=i, title=f"Topic {i}") for i in (1, 2, 3)]
    session.current_agenda_item = agenda[0]
    session.save()
    return Room(board, session, member, member2, facilitator, outsider, agenda)


def token_header(user: User | None) -> list[tuple[bytes, bytes]]:
    if user is None:
        return []
    token, _ = Token.objects.get_or_create(user=user)
    return [(b"authorization", f"Token {token.key}".encode())]


def communicator(
    session_id: int, auth: list[tuple[bytes, bytes]], origin: tuple[bytes, bytes] | None = ORIGIN
) -> WebsocketCommunicator:
    headers = [*auth, *([origin] if origin else [])]
    return WebsocketCommunicator(application, f"/ws/sessions/{session_id}/", headers=headers)


async def receive_until(comm: WebsocketCommunicator, wanted: str, *, timeout: float = 2) -> dict[str, Any]:
    """The next message of type ``wanted``, skipping presence and other noise."""
    while True:
        message = await comm.receive_json_from(timeout=timeout)
        if message["type"] == wanted:
            return message


async def receive_event(comm: WebsocketCommunicator, kind: str | None = None, *, timeout: float = 2) -> dict[str, Any]:
    while True:
        message = await receive_until(comm, "event", timeout=timeout)
        if kind is None or message["kind"] == kind:
            return message


async def joined(session_id: int, auth: list[tuple[bytes, bytes]]) -> WebsocketCommunicator:
    comm = communicator(session_id, auth)
    connected, _ = await comm.connect()
    assert connected
    hello = await receive_until(comm, "hello")
    assert hello["session"] == session_id
    return comm


async def no_event(comm: WebsocketCommunicator, *, within: float = 0.3) -> bool:
    """True when no event arrives within ``within`` seconds (presence and acks are ignored)."""
    import asyncio

    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while (remaining := deadline - loop.time()) > 0:
        if await comm.receive_nothing(timeout=remaining):
            return True
        if (await comm.receive_json_from())["type"] == "event":
            return False
    return True
