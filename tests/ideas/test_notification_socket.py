"""The notification socket: who may open it, what each person receives, and catching up after a reconnect."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import transaction
from django.test import override_settings

from cocreate.asgi import application
from cocreate.models import User
from cocreate.privacy import user_delete
from ideas import services
from ideas.models import Notification
from tests.boards.conftest import receive_until, token_header
from tests.factories import UserFactory
from tests.ideas.factories import IdeaFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fresh_channel_layer")]

ORIGIN = (b"origin", b"http://testserver")
PATH = "/ws/notifications/"


def socket(auth: list[tuple[bytes, bytes]], *, origin: tuple[bytes, bytes] = ORIGIN) -> WebsocketCommunicator:
    return WebsocketCommunicator(application, PATH, headers=[*auth, origin])


async def opened(user: User) -> tuple[WebsocketCommunicator, dict[str, Any]]:
    comm = socket(await sync_to_async(token_header)(user))
    connected, _ = await comm.connect()
    assert connected
    hello = await comm.receive_json_from(timeout=2)
    assert hello["type"] == "hello"
    return comm, hello


def tell(user: User, text: str = "Something happened", **fields: Any) -> None:
    services.notify(users=[user], kind=Notification.Kind.STATUS, message=text, params={}, **{"idea": None, **fields})


async def close_code(comm: WebsocketCommunicator) -> int:
    message = await comm.receive_output(timeout=2)
    assert message["type"] == "websocket.close", message
    return int(message["code"])


@pytest.fixture
def ada(db: None) -> User:
    return UserFactory(display_name="Ada")


@pytest.fixture
def bob(db: None) -> User:
    return UserFactory(display_name="Bob")


async def test_visitors_who_are_not_logged_in_are_closed_with_4401() -> None:
    comm = socket([])
    connected, _ = await comm.connect()
    assert connected, "accepted first, so that the browser can read the close code"
    assert await close_code(comm) == 4401


async def test_a_deactivated_account_is_refused(ada: User) -> None:
    auth = await sync_to_async(token_header)(ada)
    await User.objects.filter(pk=ada.pk).aupdate(is_active=False)
    comm = socket(auth)
    assert (await comm.connect())[0]
    assert await close_code(comm) == 4401  # the token no longer identifies anyone


async def test_a_handshake_from_another_origin_is_refused(ada: User) -> None:
    comm = socket(await sync_to_async(token_header)(ada), origin=(b"origin", b"http://evil.example"))
    connected, _ = await comm.connect()
    assert not connected


async def test_hello_carries_the_unread_count_and_the_newest_id(ada: User) -> None:
    await sync_to_async(tell)(ada)
    await sync_to_async(tell)(ada)
    newest = await Notification.objects.filter(user=ada).order_by("-pk").afirst()
    assert newest is not None
    await Notification.objects.filter(pk__lt=newest.pk, user=ada).aupdate(read_at=newest.created_at)
    comm, hello = await opened(ada)
    assert hello["unread"] == 1
    assert hello["last_id"] == newest.pk
    await comm.disconnect()


async def test_a_new_notification_reaches_every_tab_of_its_user_and_nobody_else(ada: User, bob: User) -> None:
    tab1, _ = await opened(ada)
    tab2, _ = await opened(ada)
    other, _ = await opened(bob)
    idea = await sync_to_async(IdeaFactory)(creator=ada)
    await sync_to_async(tell)(ada, "Your idea was published", idea=idea)
    stored = await Notification.objects.aget(user=ada)
    for tab in (tab1, tab2):
        frame = await tab.receive_json_from(timeout=2)
        assert frame == {
            "type": "notification",
            "id": stored.pk,
            "kind": "status",
            "text": "Your idea was published",
            "url": f"/ideas/{idea.pk}/",
            "created": stored.created_at.isoformat(),
            "unread": 1,
        }
    assert await other.receive_nothing(timeout=0.3)
    for comm in (tab1, tab2, other):
        await comm.disconnect()


async def test_a_rolled_back_transaction_pushes_nothing_and_a_committed_one_does(ada: User) -> None:
    comm, _ = await opened(ada)

    def rolled_back() -> None:
        with transaction.atomic():
            tell(ada, "never stored")
            transaction.set_rollback(True)

    await sync_to_async(rolled_back)()
    assert await comm.receive_nothing(timeout=0.3)
    assert not await Notification.objects.filter(user=ada).aexists()

    def committed() -> None:
        with transaction.atomic():
            tell(ada, "stored")

    await sync_to_async(committed)()
    assert (await comm.receive_json_from(timeout=2))["text"] == "stored"
    await comm.disconnect()


async def test_resume_sends_what_came_after_the_given_id_in_order_then_the_unread_count(ada: User, bob: User) -> None:
    for text in ("one", "two", "three"):
        await sync_to_async(tell)(ada, text)
    await sync_to_async(tell)(bob, "not for Ada")
    first = await Notification.objects.filter(user=ada).order_by("pk").afirst()
    assert first is not None
    comm, _ = await opened(ada)
    await comm.send_json_to({"type": "resume", "after": first.pk})
    replayed = [await comm.receive_json_from(timeout=2) for _ in range(2)]
    assert [(f["type"], f["text"], f["replay"]) for f in replayed] == [
        ("notification", "two", True),
        ("notification", "three", True),
    ]
    resumed = await comm.receive_json_from(timeout=2)
    assert resumed["type"] == "resumed"
    assert (resumed["unread"], resumed["last_id"], resumed["truncated"]) == (3, replayed[-1]["id"], False)
    await comm.disconnect()


@override_settings(IDEAS_NOTIFICATIONS_RESUME_MAX=2)
async def test_resume_replays_only_the_newest_notifications_when_too_many_were_missed(ada: User) -> None:
    for text in ("one", "two", "three", "four", "five"):
        await sync_to_async(tell)(ada, text)
    comm, hello = await opened(ada)
    assert hello["resume_limit"] == 2
    await comm.send_json_to({"type": "resume", "after": 0})
    assert [(await comm.receive_json_from(timeout=2))["text"] for _ in range(2)] == ["four", "five"]
    resumed = await comm.receive_json_from(timeout=2)
    assert (resumed["type"], resumed["truncated"], resumed["unread"]) == ("resumed", True, 5)
    await comm.disconnect()


async def test_marking_read_sends_the_new_unread_count_to_the_other_tabs(ada: User) -> None:
    await sync_to_async(tell)(ada)
    tab, hello = await opened(ada)
    assert hello["unread"] == 1
    await sync_to_async(services.notifications_mark_read)(user=ada)
    assert await tab.receive_json_from(timeout=2) == {"type": "unread", "unread": 0}
    await tab.disconnect()


async def test_a_heartbeat_answers_the_newest_id_and_unread_count(ada: User) -> None:
    comm, hello = await opened(ada)
    assert (hello["unread"], hello["last_id"]) == (0, 0)
    await comm.send_json_to({"type": "heartbeat"})
    assert await comm.receive_json_from(timeout=2) == {"type": "heartbeat", "unread": 0, "last_id": 0}
    await comm.disconnect()


@pytest.mark.parametrize(
    ("sent", "code"),
    [
        ("not json", "malformed"),
        ('["a list"]', "malformed"),
        ('{"no": "type"}', "malformed"),
        ('{"type": "support.add"}', "unknown_type"),
        ('{"type": "notifications.push", "frame": {"type": "notification"}}', "unknown_type"),
        ('{"type": "resume", "after": "ten"}', "invalid"),
        ('{"type": "resume", "after": -1}', "invalid"),
    ],
)
async def test_bad_input_gets_an_error_event_and_the_socket_keeps_working(ada: User, sent: str, code: str) -> None:
    comm, _ = await opened(ada)
    await comm.send_to(text_data=sent)
    error = await comm.receive_json_from(timeout=2)
    assert (error["type"], error["code"]) == ("error", code)
    await comm.send_json_to({"type": "heartbeat"})
    assert (await comm.receive_json_from(timeout=2))["type"] == "heartbeat"
    await comm.disconnect()


@override_settings(WS_MAX_MESSAGE_BYTES=512)
async def test_a_message_over_the_size_limit_is_refused_and_the_socket_closed(ada: User) -> None:
    comm, _ = await opened(ada)
    await comm.send_json_to({"type": "resume", "after": 0, "padding": "x" * 600})
    error = await comm.receive_json_from(timeout=2)
    assert (error["type"], error["code"]) == ("error", "too_big")
    assert await close_code(comm) == 1009


@override_settings(IDEAS_NOTIFICATIONS_WS_RATE_LIMIT=(3, 60))
async def test_too_many_messages_are_refused_with_an_error(ada: User) -> None:
    comm, _ = await opened(ada)
    for _ in range(3):
        await comm.send_json_to({"type": "heartbeat"})
        assert (await comm.receive_json_from(timeout=2))["type"] == "heartbeat"
    await comm.send_json_to({"type": "heartbeat"})
    error = await comm.receive_json_from(timeout=2)
    assert (error["type"], error["code"]) == ("error", "rate_limited")
    await comm.disconnect()


async def test_an_account_deactivated_while_connected_is_closed_at_its_next_message(ada: User) -> None:
    comm, _ = await opened(ada)
    await User.objects.filter(pk=ada.pk).aupdate(is_active=False)
    await comm.send_json_to({"type": "heartbeat"})
    assert await close_code(comm) == 4403


async def test_closing_the_account_closes_its_open_sockets(ada: User, bob: User) -> None:
    comm, _ = await opened(ada)
    other, _ = await opened(bob)
    await sync_to_async(user_delete)(user=ada)
    assert await close_code(comm) == 4403
    await other.send_json_to({"type": "heartbeat"})
    assert (await receive_until(other, "heartbeat"))["unread"] == 0
    await other.disconnect()


async def test_a_notification_for_a_user_with_no_open_socket_is_stored_and_found_on_connect(ada: User) -> None:
    await sync_to_async(tell)(ada, "while away")
    await asyncio.sleep(0)
    comm, hello = await opened(ada)
    assert hello["unread"] == 1
    await comm.send_json_to({"type": "resume", "after": 0})
    assert (await comm.receive_json_from(timeout=2))["text"] == "while away"
    await comm.disconnect()
