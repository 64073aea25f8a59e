"""Fault drill: kill -9 one of two ASGI processes while a live room chats; its clients move to the other.

Two uvicorn processes share PostgreSQL and a private Redis (channel layer); there is no proxy, so each client
knows both addresses. Members chat through both. When one process is killed, its clients reconnect to the
survivor, ``resume`` after the last event id they saw and send their unacknowledged messages again with the
same ``client_msg_id`` (the protocol in boards/README.md). Meanwhile an HTTP poller reads pages from the
survivor. Afterwards each client's events must be the session's events exactly: every ``seq`` from 1 to the
last, none twice; each message sent must be stored once.

Full form (a migrated PostgreSQL database; the drill makes its own board, members and live session)::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cc_faults \\
        python tests/benchmarks/faults_asgi.py --clients 20 --seconds 60

The short form runs in CI: ``pytest -m faults tests/quality/test_faults.py`` (``make test-faults``).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import sys
import threading
import time
import uuid
from collections import Counter
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import websockets

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cocreate.settings")

from tests.benchmarks.drills import Platform, drill_on_fresh_platform, get


def make_room(clients: int) -> tuple[int, list[str]]:
    """A board, ``clients`` members who accepted its charter, a live session; the session id and tokens."""
    from django.utils import timezone
    from rest_framework.authtoken.models import Token

    from cocreate.roles import Role
    from tests.boards.factories import AgendaItemFactory, BoardFactory, MembershipFactory, SessionFactory
    from tests.factories import UserFactory

    run = uuid.uuid4().hex[:8]
    board = BoardFactory(name=f"Drill room {run}")
    members = [UserFactory(email=f"room-{run}-{i}@example.com", roles=[Role.BOARD_MEMBER]) for i in range(clients)]
    for member in members:
        MembershipFactory(board=board, user=member)
    session = SessionFactory(board=board, starts_at=timezone.now() - datetime.timedelta(minutes=5))
    session.current_agenda_item = AgendaItemFactory(session=session, order=1)
    session.save()
    return session.pk, [Token.objects.get_or_create(user=member)[0].key for member in members]


@dataclass
class Client:
    """One member's socket: the ids it saw (in arrival order) and the messages it still waits to see acked."""

    token: str
    servers: list[str]
    seen: list[int] = field(default_factory=list)
    unacked: dict[str, str] = field(default_factory=dict)
    sent: list[str] = field(default_factory=list)
    reconnects: int = 0
    heartbeats: int = 0  # answers received
    socket: Any = None

    @property
    def last_id(self) -> int:
        return max(self.seen, default=0)


async def connect(client: Client, session_id: int) -> None:
    """Connect to the first server that answers (own first), resume, and re-send what was never acked."""
    delay = 0.2
    while True:
        for base in client.servers:
            try:
                client.socket = await websockets.connect(
                    base.replace("http", "ws", 1) + f"/ws/sessions/{session_id}/",
                    origin=base,  # type: ignore[arg-type]
                    additional_headers={"Authorization": f"Token {client.token}"},
                    open_timeout=5,
                )
                await client.socket.send(json.dumps({"type": "resume", "after": client.last_id}))
                for msg_id, body in list(client.unacked.items()):
                    message = {"type": "chat.send", "body": body, "client_msg_id": msg_id}
                    await client.socket.send(json.dumps(message))
            except (OSError, websockets.exceptions.WebSocketException, TimeoutError):
                continue
            return
        await asyncio.sleep(delay)
        delay = min(delay * 2, 2)


async def listen(client: Client, session_id: int, stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            raw = await asyncio.wait_for(client.socket.recv(), 0.5)
        except TimeoutError:
            continue
        except websockets.exceptions.ConnectionClosed:
            if stop.is_set():
                return
            client.reconnects += 1
            await asyncio.sleep(0.2)
            await connect(client, session_id)
            continue
        message = json.loads(raw)
        if message["type"] == "event":
            client.seen.append(message["id"])
        elif message["type"] == "ack":
            client.unacked.pop(message["client_msg_id"], None)
        elif message["type"] == "heartbeat":
            client.heartbeats += 1
            if message["last_id"] > client.last_id:
                await client.socket.send(json.dumps({"type": "resume", "after": client.last_id}))


async def heartbeat_and_settle(room: list[Client], answer_within: float = 20.0) -> None:
    """Send every client's heartbeat and wait for its answer, which names the newest id (``listen`` resumes when
    behind), then for the resumes to arrive. The server answers a heartbeat at a random point of
    ``BOARDS_HEARTBEAT_SPREAD`` (5 s by default), so a fixed wait would end before some answers."""
    answered = {id(client): client.heartbeats for client in room}
    for client in room:
        with suppress(websockets.exceptions.ConnectionClosed):  # listen() reconnects and resumes
            await client.socket.send(json.dumps({"type": "heartbeat"}))
    deadline = time.monotonic() + answer_within
    while any(client.heartbeats <= answered[id(client)] for client in room) and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    await asyncio.sleep(3)


async def chat(client: Client, until: float, pause: float) -> None:
    while time.monotonic() < until:
        msg_id, body = uuid.uuid4().hex, f"drill {len(client.sent)}"
        client.unacked[msg_id] = body
        client.sent.append(msg_id)
        with suppress(websockets.exceptions.ConnectionClosed):  # listen() reconnects and re-sends it
            await client.socket.send(json.dumps({"type": "chat.send", "body": body, "client_msg_id": msg_id}))
        await asyncio.sleep(pause)


def poll_pages(base: str, stop: threading.Event, statuses: Counter[int]) -> None:
    while not stop.is_set():
        for path in ("/", "/ideas/", "/api/ideas/"):
            statuses[get(base + path)[0]] += 1
        time.sleep(0.2)


def drill(running: Platform, *, clients: int, seconds: float, rate: float = 2.0) -> dict[str, Any]:
    from boards.models import SessionEvent

    session_id, tokens = make_room(clients)
    first, second = running.start_web("web-a", "web-b")
    room = [Client(token, [first, second] if i % 2 == 0 else [second, first]) for i, token in enumerate(tokens)]
    statuses: Counter[int] = Counter()
    stop_polling = threading.Event()
    poller = threading.Thread(target=poll_pages, args=(second, stop_polling, statuses), daemon=True)
    killed_at: list[float] = []

    async def run() -> None:
        for client in room:
            await connect(client, session_id)
        stop = asyncio.Event()
        listeners = [asyncio.create_task(listen(client, session_id, stop)) for client in room]
        started = time.monotonic()
        senders = [asyncio.create_task(chat(c, started + seconds, clients / rate)) for c in room]
        await asyncio.sleep(seconds / 3)
        poller.start()
        await asyncio.to_thread(running.kill, "web-a")
        killed_at.append(time.monotonic() - started)
        await asyncio.gather(*senders)
        deadline = time.monotonic() + 60
        while any(c.unacked for c in room) and time.monotonic() < deadline:
            await asyncio.sleep(0.5)
        await heartbeat_and_settle(room)
        stop.set()
        await asyncio.gather(*listeners)
        for client in room:
            await client.socket.close()

    asyncio.run(run())
    stop_polling.set()
    poller.join(timeout=30)

    stored = dict(SessionEvent.objects.filter(session_id=session_id).values_list("pk", "seq"))
    messages = Counter(
        SessionEvent.objects.filter(session_id=session_id, kind="chat.message").values_list("client_msg_id", flat=True)
    )
    last_seq = max(stored.values(), default=0)
    sent = [msg_id for client in room for msg_id in client.sent]
    return {
        "clients": clients,
        "killed_after_s": round(killed_at[0], 1),
        "messages_sent": len(sent),
        "events_stored": len(stored),
        "seq_contiguous": sorted(stored.values()) == list(range(1, last_seq + 1)),
        "messages_lost": sum(1 for msg_id in sent if messages[msg_id] == 0),
        "messages_stored_twice": sum(1 for msg_id in sent if messages[msg_id] > 1),
        "unacked_at_end": sum(len(c.unacked) for c in room),
        "reconnects": sum(c.reconnects for c in room),
        "clients_missing_events": sum(1 for c in room if set(c.seen) != set(stored)),
        "clients_with_duplicates": sum(1 for c in room if len(c.seen) != len(set(c.seen))),
        "pages_from_survivor": dict(statuses),
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--rate", type=float, default=4.0, help="chat messages per second, all clients together")
    args = parser.parse_args()
    figures = drill_on_fresh_platform("faults-asgi-", drill, clients=args.clients, seconds=args.seconds, rate=args.rate)
    for name, value in figures.items():
        print(f"{name:24} {value}")
    ok = (
        figures["seq_contiguous"]
        and not figures["messages_lost"]
        and not figures["messages_stored_twice"]
        and not figures["clients_missing_events"]
        and not figures["clients_with_duplicates"]
        and set(figures["pages_from_survivor"]) == {200}
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
