"""Mixed load against running ASGI processes: browsing, supporting, commenting and live-room chat, then consistency.

The demo people (``seed_demo``) act at a stated total rate, spread over every ``--url`` (several ASGI processes,
no proxy: each user keeps to one). Prints p50/p99 per kind and every error (status 0 or 5xx; 4xx answers such
as a rate limit's 429 are counted per status, not as errors), then checks through the ORM (same
``DATABASE_URL``): every idea's supporter count equals its counting support rows; in the live room every chat
message sent was stored once, the session's ``seq`` runs 1..n without a gap, and each chatter received every
event stored after it joined, none twice; the royalty ledger is unchanged (total and every payee's balance) and
every reversal cancels its original.

Full form (10 minutes; a migrated PostgreSQL database; ``--start 3`` starts a private redis-server on a free port in
8700-8799, a worker and three uvicorn processes, seeds the demo data, and stops them all afterwards)::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cc_faults python tests/benchmarks/load_mixed.py \\
        --start 3 --minutes 10 --rate 10

Against processes already running, name them instead: ``--url http://127.0.0.1:8791,http://127.0.0.1:8792``.

The short form (about 60 s) runs in CI: ``pytest -m faults tests/quality/test_faults.py`` (``make test-faults``).
Loopback only; bounded by the duration and ``--max-requests``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter, defaultdict
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import websockets

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cocreate.settings")

DEMO_PASSWORD = "cocreate-demo-2026"
PEOPLE = ["customer@example.com", "customer2@example.com", "board@example.com", "board2@example.com"]
CHATTERS = {"board@example.com", "board2@example.com"}


def http(method: str, url: str, *, token: str | None = None, body: Any = None) -> tuple[int, bytes]:
    if urlparse(url).hostname not in ("127.0.0.1", "localhost"):
        raise SystemExit("loopback only")
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 - loopback only, checked above
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Token {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback only, checked above
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


class Stats:
    def __init__(self) -> None:
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.status: dict[str, Counter[int]] = defaultdict(Counter)
        self.errors: list[str] = []
        self.requests = 0

    def record(self, kind: str, started: float, status: int) -> None:
        self.latency[kind].append((time.perf_counter() - started) * 1000)
        self.status[kind][status] += 1
        self.requests += 1
        if status >= 500 or status == 0:
            self.errors.append(f"{kind} {status}")

    def summary(self) -> dict[str, dict[str, Any]]:
        figures = {}
        for kind, values in sorted(self.latency.items()):
            ordered = sorted(values)
            figures[kind] = {
                "n": len(ordered),
                "p50_ms": round(statistics.median(ordered), 1),
                "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 1),
                "statuses": dict(self.status[kind]),
            }
        return figures


@dataclass
class Chatter:
    """A live-room socket: the events it received after joining, and the messages it sent."""

    socket: Any
    joined_after: int
    seen: list[int] = field(default_factory=list)
    sent: list[str] = field(default_factory=list)
    waiting: dict[str, asyncio.Future[int]] = field(default_factory=dict)
    heartbeats: int = 0  # answers received

    async def read(self) -> None:
        async for raw in self.socket:
            message = json.loads(raw)
            if message["type"] == "event":
                self.seen.append(message["id"])
            elif message["type"] == "ack" and message["client_msg_id"] in self.waiting:
                self.waiting.pop(message["client_msg_id"]).set_result(200)
            elif message["type"] == "error" and message.get("client_msg_id") in self.waiting:
                code = 429 if message.get("code") == "rate_limited" else 400
                self.waiting.pop(message["client_msg_id"]).set_result(code)
            elif message["type"] == "heartbeat":
                self.heartbeats += 1
                if message["last_id"] > max(self.seen, default=self.joined_after):
                    await self.socket.send(json.dumps({"type": "resume", "after": max(self.seen, default=0)}))

    async def say(self, stats: Stats) -> None:
        started = time.perf_counter()
        msg_id = uuid.uuid4().hex
        reply: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self.waiting[msg_id] = reply
        await self.socket.send(json.dumps({"type": "chat.send", "body": "load chat", "client_msg_id": msg_id}))
        try:
            status = await asyncio.wait_for(reply, 30)
        except TimeoutError:
            status = 0
        if status == 200:
            self.sent.append(msg_id)
        stats.record("chat", started, status)


async def call(stats: Stats, kind: str, method: str, url: str, **kwargs: Any) -> tuple[int, bytes]:
    started = time.perf_counter()
    try:
        status, body = await asyncio.to_thread(http, method, url, **kwargs)
    except OSError as error:
        stats.errors.append(f"{kind} {error}")
        status, body = 0, b""
    stats.record(kind, started, status)
    return status, body


async def user_loop(
    base: str,
    token: str,
    ideas: list[int],
    chatter: Chatter | None,
    stats: Stats,
    deadline: float,
    pause: float,
    max_requests: int,
) -> None:
    while time.monotonic() < deadline and stats.requests < max_requests:
        roll = random.random()
        idea = random.choice(ideas)
        if roll < 0.45:
            page = random.choice(["/", "/ideas/", f"/ideas/{idea}/", "/api/ideas/"])
            await call(stats, "browse", "GET", base + page, token=token if page.startswith("/api") else None)
        elif roll < 0.7:
            status, _ = await call(stats, "support", "POST", f"{base}/api/ideas/{idea}/support/", token=token, body={})
            if status == 409 or random.random() < 0.5:
                await call(stats, "support", "DELETE", f"{base}/api/ideas/{idea}/support/", token=token)
        elif roll < 0.85 or chatter is None:
            body = {"body": f"load comment {uuid.uuid4().hex[:8]}"}
            await call(stats, "comment", "POST", f"{base}/api/ideas/{idea}/comments/", token=token, body=body)
        else:
            await chatter.say(stats)
        # Exponential pauses: arrivals are a Poisson process at the stated mean rate, not a lockstep.
        await asyncio.sleep(random.expovariate(1 / pause))


def ledger_snapshot() -> tuple[int, dict[tuple[int, int], int]]:
    from django.db.models import Sum

    from rewards.models import LedgerEntry
    from rewards.services import payee_balances

    return LedgerEntry.objects.aggregate(total=Sum("amount_minor"))["total"] or 0, payee_balances()


def consistency(
    ledger_before: tuple[int, dict[tuple[int, int], int]], session_id: int | None, chatters: list[Chatter]
) -> dict[str, Any]:
    from django.db.models import Count, F, Q

    from boards.models import SessionEvent
    from ideas.models import Idea
    from rewards.models import LedgerEntry

    # Supports that do not count (the creator's own) are rows too; the count is of those that count.
    wrong_counts = [
        (idea.pk, idea.supporters_count, idea.rows)
        for idea in Idea.objects.annotate(rows=Count("supports", filter=Q(supports__counts=True)))
        if idea.supporters_count != idea.rows
    ]
    total, balances = ledger_snapshot()
    bad_reversals = LedgerEntry.objects.filter(kind=LedgerEntry.Kind.REVERSAL).exclude(
        amount_minor=-F("reversal_of__amount_minor")
    )
    figures: dict[str, Any] = {
        "supporter_counts_wrong": wrong_counts,
        "ledger_unchanged": (total, balances) == ledger_before,
        "ledger_bad_reversals": bad_reversals.count(),
    }
    if session_id is not None:
        events = dict(SessionEvent.objects.filter(session_id=session_id).values_list("pk", "seq"))
        stored = Counter(
            SessionEvent.objects.filter(session_id=session_id, kind="chat.message").values_list(
                "client_msg_id", flat=True
            )
        )
        sent = [msg_id for chatter in chatters for msg_id in chatter.sent]
        figures.update(
            {
                "chat_acked": len(sent),
                "chat_not_stored_once": sum(1 for msg_id in sent if stored[msg_id] != 1),
                "seq_contiguous": sorted(events.values()) == list(range(1, max(events.values(), default=0) + 1)),
                "chatters_missing_events": sum(
                    1 for c in chatters if set(c.seen) != {pk for pk in events if pk > c.joined_after}
                ),
                "chatters_with_duplicates": sum(1 for c in chatters if len(c.seen) != len(set(c.seen))),
            }
        )
    return figures


def consistent(figures: dict[str, Any]) -> bool:
    return (
        not figures["supporter_counts_wrong"]
        and figures["ledger_unchanged"]
        and not figures["ledger_bad_reversals"]
        and not figures.get("chat_not_stored_once")
        and figures.get("seq_contiguous", True)
        and not figures.get("chatters_missing_events")
        and not figures.get("chatters_with_duplicates")
    )


def run_load(bases: list[str], *, seconds: float, rate: float, users: int = 4, max_requests: int = 500_000) -> dict:
    """Run the mixed load and the consistency checks; the figures as a dict. Needs django.setup() done."""
    from django.db.models import Max

    from boards.models import Session, SessionEvent
    from ideas.models import Idea

    ledger_before = ledger_snapshot()
    ideas = list(Idea.objects.filter(status=Idea.Status.PUBLISHED).values_list("pk", flat=True)[:20])
    # The demo board's live session: the one the demo chatters are members of.
    session_id = (
        Session.objects.filter(state=Session.State.LIVE, board__memberships__user__email__in=CHATTERS)
        .values_list("pk", flat=True)
        .first()
    )
    people = PEOPLE[:users]
    tokens = {}
    for i, email in enumerate(people):
        status, body = http(
            "POST", f"{bases[i % len(bases)]}/api/auth/token/", body={"email": email, "password": DEMO_PASSWORD}
        )
        if status != 200:
            raise SystemExit(f"token for {email}: {status} {body[:200]!r}")
        tokens[email] = json.loads(body)["token"]
    stats = Stats()
    chatters: list[Chatter] = []

    async def run() -> float:
        readers = []
        by_user: dict[str, Chatter] = {}
        for i, email in enumerate(people):
            if email not in CHATTERS or session_id is None:
                continue
            base = bases[i % len(bases)]
            joined_after = await asyncio.to_thread(
                lambda: SessionEvent.objects.filter(session_id=session_id).aggregate(m=Max("pk"))["m"] or 0
            )
            socket = await websockets.connect(
                base.replace("http", "ws", 1) + f"/ws/sessions/{session_id}/",
                origin=base,  # type: ignore[arg-type]
                additional_headers={"Authorization": f"Token {tokens[email]}"},
            )
            chatter = Chatter(socket, joined_after)
            await socket.send(json.dumps({"type": "resume", "after": joined_after}))
            by_user[email] = chatter
            chatters.append(chatter)
            readers.append(asyncio.create_task(chatter.read()))
        started = time.monotonic()
        deadline = started + seconds
        await asyncio.gather(
            *(
                user_loop(
                    bases[i % len(bases)], tokens[email], ideas, by_user.get(email), stats, deadline,
                    len(people) / rate, max_requests,
                )
                for i, email in enumerate(people)
            )
        )  # fmt: skip
        elapsed = time.monotonic() - started
        # The answer names the newest id and read() resumes if it is behind. The server answers at a random point
        # of BOARDS_HEARTBEAT_SPREAD (5 s by default): wait for every answer, then for the resumes.
        answered = [chatter.heartbeats for chatter in chatters]
        for chatter in chatters:
            await chatter.socket.send(json.dumps({"type": "heartbeat"}))
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and any(c.heartbeats <= n for c, n in zip(chatters, answered, strict=True)):
            await asyncio.sleep(0.2)
        await asyncio.sleep(3)
        for chatter in chatters:
            await chatter.socket.close()
        await asyncio.gather(*readers, return_exceptions=True)
        return elapsed

    elapsed = asyncio.run(run())
    return {
        "seconds": round(elapsed),
        "processes": len(bases),
        "users": len(people),
        "rate_stated": rate,
        "rate_achieved": round(stats.requests / elapsed, 1),
        "requests": stats.requests,
        "errors": len(stats.errors),
        "first_errors": stats.errors[:5],
        "kinds": stats.summary(),
        **consistency(ledger_before, session_id, chatters),
    }


def start_platform(stack: ExitStack, processes: int, *, seed: bool) -> list[str]:
    """A private redis-server, a worker and ``processes`` uvicorn processes on DATABASE_URL (see drills.py)."""
    from tests.benchmarks.drills import platform

    var = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="load-mixed-")))
    running = stack.enter_context(platform(os.environ["DATABASE_URL"], var))
    if seed:
        running.manage("seed_demo", timeout=900)
    running.start_worker("worker")
    return running.start_web(*(f"web-{i}" for i in range(processes)))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default="http://127.0.0.1:8791", help="comma-separated base URLs, one per process")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--minutes", type=float, help="overrides --seconds")
    parser.add_argument("--users", type=int, default=4, choices=range(1, len(PEOPLE) + 1))
    parser.add_argument("--rate", type=float, default=8, help="actions per second, all users together (mean)")
    parser.add_argument("--max-requests", type=int, default=500_000)
    parser.add_argument("--start", type=int, default=0, help="start this many ASGI processes, a worker and a Redis")
    parser.add_argument("--no-seed", action="store_true", help="with --start: the demo data is already there")
    args = parser.parse_args()
    import django

    django.setup()
    seconds = args.minutes * 60 if args.minutes else args.seconds
    with ExitStack() as stack:
        bases = args.url.split(",")
        if args.start:
            bases = start_platform(stack, args.start, seed=not args.no_seed)
        figures = run_load(bases, seconds=seconds, rate=args.rate, users=args.users, max_requests=args.max_requests)
    for kind, row in figures.pop("kinds").items():
        print(f"{kind:8} n={row['n']:6}  p50={row['p50_ms']:7.1f} ms  p99={row['p99_ms']:7.1f} ms  {row['statuses']}")
    for name, value in figures.items():
        print(f"{name:26} {value}")
    return 0 if not figures["errors"] and consistent(figures) else 1


if __name__ == "__main__":
    raise SystemExit(main())
