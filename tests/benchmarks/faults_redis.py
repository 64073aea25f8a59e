"""Fault drill: stop the platform's private Redis during traffic, chat and e-mail, then start it again.

Two ASGI processes and a worker (with beat) run on PostgreSQL and a redis-server of the drill's own, without
persistence, as the drills' Redis is started (``--save '' --appendonly no``): whatever the broker held when
it stopped is gone when it comes back. Throughout, a poller reads pages and a live room chats through both
processes. The drill queues a board's minutes e-mails just before stopping Redis and another board's while it
is down, and checks:

* pages keep serving (200) while Redis is down: the cache degrades to misses, sessions live in the database;
* ``/healthz`` answers 503 naming cache, channel layer and broker, then 200 once Redis is back (the worker
  check last: its heartbeat task waits behind the e-mail backlog in the same queue);
* no e-mail is lost and none is sent twice. What the broker guarantees: nothing while it is down. A publish
  then fails at once, and a restart without persistence drops what was queued. The task outbox
  (``cocreate/outbox.py``) covers both: the request that asked for the e-mail succeeds with the task stored
  in PostgreSQL, and the outbox flush publishes it once Redis is back (and again if it was lost);
* the live room resumes: messages sent while Redis was down are stored or re-sent by the client, and every
  client ends with every event of the session, ``seq`` 1..n, none twice.

Full form (a migrated PostgreSQL database; the drill makes its own boards and room)::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cc_faults \\
        python tests/benchmarks/faults_redis.py --members 500 --clients 10 --down-seconds 30

The short form runs in CI: ``pytest -m faults tests/quality/test_faults.py`` (``make test-faults``).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cocreate.settings")

from tests.benchmarks.drills import Platform, drill_on_fresh_platform, failing_checks, get, health, wait_for
from tests.benchmarks.faults_asgi import Client, chat, connect, heartbeat_and_settle, listen, make_room
from tests.benchmarks.faults_worker import make_board, sent_to

PAGES = ("/", "/ideas/", "/api/ideas/")


def traffic(bases: list[str], phase: list[str], seen: Counter[tuple[str, str, int]], stop: threading.Event) -> None:
    while not stop.is_set():
        for base in bases:
            for path in PAGES:
                seen[(phase[0], path, get(base + path)[0])] += 1
        time.sleep(0.2)


def queue_minutes(running: Platform, session_id: int) -> str:
    queue = (
        "from boards.models import Session; from boards.services import minutes_email_members; "
        f"print(minutes_email_members(session=Session.objects.get(pk={session_id})))"
    )
    return running.manage("shell", "-c", queue).strip().splitlines()[-1]


def drill(
    running: Platform, *, members: int, clients: int, down_seconds: float, chat_rate: float = 2.0
) -> dict[str, Any]:
    from boards.models import SessionEvent

    before_session, before_addresses = make_board(members)
    during_session, during_addresses = make_board(members)
    room_session, tokens = make_room(clients)
    mail_dir = running.var_dir / "mail"
    running.start_worker("worker")
    bases = running.start_web("web-a", "web-b")
    wait_for(lambda: health(bases[0])[0] == 200, 60, "/healthz healthy before the drill")

    phase = ["before"]
    seen: Counter[tuple[str, str, int]] = Counter()
    stop_traffic = threading.Event()
    poller = threading.Thread(target=traffic, args=(bases, phase, seen, stop_traffic), daemon=True)
    poller.start()
    room = [Client(token, bases if i % 2 == 0 else bases[::-1]) for i, token in enumerate(tokens)]
    figures: dict[str, Any] = {"members_per_batch": members, "clients": clients}

    async def run() -> None:
        for client in room:
            await connect(client, room_session)
        stop = asyncio.Event()
        listeners = [asyncio.create_task(listen(client, room_session, stop)) for client in room]
        started = time.monotonic()
        chat_seconds = 4 + down_seconds + 6
        senders = [asyncio.create_task(chat(c, started + chat_seconds, clients / chat_rate)) for c in room]
        await asyncio.sleep(2)

        # Queued just before the stop: some of these are still in Redis when it goes, and are lost with it.
        figures["queued_before"] = await asyncio.to_thread(queue_minutes, running, before_session)
        phase[0] = "redis-down"
        await asyncio.to_thread(running.stop_redis)
        detect = await asyncio.to_thread(
            wait_for, lambda: health(bases[0])[0] == 503, 30, "/healthz reporting the Redis outage"
        )
        figures["healthz_503_after_s"] = round(detect, 1)
        figures["failing_checks"] = failing_checks(health(bases[0])[1])
        # Asked for while Redis is down: the command succeeds, the tasks wait in the outbox.
        figures["queued_while_down"] = await asyncio.to_thread(queue_minutes, running, during_session)
        figures["outbox_rows_while_down"] = await asyncio.to_thread(outbox_rows)
        await asyncio.sleep(max(0.0, down_seconds - detect))

        phase[0] = "recovering"
        restarted = time.monotonic()
        await asyncio.to_thread(running.start_redis)
        # The worker check recovers last: its heartbeat task waits in the queue behind the e-mail backlog.
        recover = await asyncio.to_thread(
            wait_for,
            lambda: all(set(failing_checks(health(base)[1])) <= {"worker"} for base in bases),
            120,
            "/healthz: cache, channel layer and broker healthy",
        )
        figures["services_ok_after_restart_s"] = round(recover, 1)
        phase[0] = "after"
        await asyncio.gather(*senders)
        deadline = time.monotonic() + 60
        while any(c.unacked for c in room) and time.monotonic() < deadline:
            await asyncio.sleep(0.5)
        await heartbeat_and_settle(room)
        stop.set()
        await asyncio.gather(*listeners)
        for client in room:
            await client.socket.close()
        everyone = set(before_addresses) | set(during_addresses)
        await asyncio.to_thread(
            wait_for, lambda: set(sent_to(mail_dir)) >= everyone, 120, "every e-mail sent after the restart", 0.5
        )
        figures["all_email_sent_after_restart_s"] = round(time.monotonic() - restarted, 1)
        await asyncio.to_thread(wait_for, lambda: health(bases[0])[0] == 200, 180, "/healthz 200 after the restart")
        figures["healthz_200_after_restart_s"] = round(time.monotonic() - restarted, 1)

    try:
        asyncio.run(run())
    finally:
        stop_traffic.set()
        poller.join(timeout=30)
    time.sleep(3)  # a second delivery would show up now

    counts = sent_to(mail_dir)
    stored = dict(SessionEvent.objects.filter(session_id=room_session).values_list("pk", "seq"))
    messages = Counter(
        SessionEvent.objects.filter(session_id=room_session, kind="chat.message").values_list(
            "client_msg_id", flat=True
        )
    )
    sent = [msg_id for client in room for msg_id in client.sent]
    last_seq = max(stored.values(), default=0)
    figures.update(
        {
            "email_missing": sum(1 for a in [*before_addresses, *during_addresses] if counts[a] == 0),
            "email_duplicates": sum(1 for a in [*before_addresses, *during_addresses] if counts[a] > 1),
            "outbox_rows_left": outbox_rows(),
            "chat_sent": len(sent),
            "chat_lost": sum(1 for msg_id in sent if messages[msg_id] == 0),
            "chat_stored_twice": sum(1 for msg_id in sent if messages[msg_id] > 1),
            "chat_unacked_at_end": sum(len(c.unacked) for c in room),
            "seq_contiguous": sorted(stored.values()) == list(range(1, last_seq + 1)),
            "clients_missing_events": sum(1 for c in room if set(c.seen) != set(stored)),
            "clients_with_duplicates": sum(1 for c in room if len(c.seen) != len(set(c.seen))),
            "reconnects": sum(c.reconnects for c in room),
            "pages": {f"{when} {path} {code}": n for (when, path, code), n in sorted(seen.items())},
        }
    )
    return figures


def outbox_rows() -> int:
    from cocreate.models import OutboxTask

    return OutboxTask.objects.count()


def pages_ok(figures: dict[str, Any]) -> bool:
    return all(key.endswith(" 200") for key in figures["pages"])


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=500)
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--down-seconds", type=float, default=30)
    args = parser.parse_args()
    figures = drill_on_fresh_platform(
        "faults-redis-", drill, members=args.members, clients=args.clients, down_seconds=args.down_seconds
    )
    for name, value in figures.items():
        if name == "pages":
            for key, count in value.items():
                print(f"  {key}: {count}")
        else:
            print(f"{name:30} {value}")
    ok = (
        pages_ok(figures)
        and {"cache", "channel_layer", "broker"} <= set(figures["failing_checks"])
        and not figures["email_missing"]
        and not figures["email_duplicates"]
        and not figures["chat_lost"]
        and not figures["chat_stored_twice"]
        and figures["seq_contiguous"]
        and not figures["clients_missing_events"]
        and not figures["clients_with_duplicates"]
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
