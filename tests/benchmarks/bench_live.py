"""Live room fan-out benchmark: two ASGI processes on the Redis channel layer against a bare websockets server.

Not a test (pytest does not collect ``bench_*.py``). Run from the repository root:

    python tests/benchmarks/bench_live.py                       # the full matrix, a few minutes
    python tests/benchmarks/bench_live.py --clients 10,50 --rates 1,10 --duration 5 --resilience-clients 50

It starts its own redis-server (``--redis-port``, default 6390, so it never touches a shared Redis), a fresh
SQLite database in a temporary folder (or ``--database-url``), two uvicorn processes of the real application
configured as production runs it (``DEBUG=0``, collected static files served by WhiteNoise, behind a TLS proxy
whose ``X-Forwarded-Proto`` header the clients send themselves), and a bare ``websockets`` broadcast server (the
transport's ceiling). For each number of clients N and each total
publish rate, publishers (also subscribers) send numbered chat messages for ``--duration`` seconds; every
client records send→receipt latency, loss (acknowledged events it never got), duplicates and reorderings.
"Live" loss counts only what arrived by the live path; "final" loss is after each client's heartbeat showed it
was behind and it resumed. Then the resilience phase: 10% of sockets dropped, one ASGI process restarted and
Redis restarted while publishing; every client must end with every acknowledged event.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import itertools
import json
import math
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
# What the TLS-terminating proxy in front of production adds to every request (README, "Deploying"): with it the
# production settings neither redirect to HTTPS nor refuse the secure cookies.
PROXY_HEADERS = {"X-Forwarded-Proto": "https"}


PROFILE = False  # --profile: run the ASGI processes under cProfile (asgi-<port>.prof in the run's folder)
DEFLATE = False  # --deflate: let uvicorn compress each message per socket (off in production, see boards/README.md)
PORTS: list[int] = []  # set from --ports: every server this benchmark starts listens on one of them
APP_ROOT = ROOT  # --app-root: run the servers from another checkout (before/after with the same client)
PY_SPY = ""  # --py-spy: sample the first ASGI process during each publishing phase (pyspy-*.txt in the run's folder)
RETRY_FIRST, RETRY_MAX = 3.0, 30.0  # seconds: a refused message is sent again after 3, 6, 12 … 30 s, as live.js does


def free_port() -> int:
    """The next port of the ``--ports`` range that nothing listens on (shared machines give each user a range)."""
    while PORTS:
        port = PORTS.pop(0)
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port left in --ports")


def wait_port(port: int, timeout: float = 180) -> None:  # a busy shared machine starts Django slowly
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port}")


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of these processes so far (Linux): less sensitive to a busy machine than latency."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))]


def slow_seconds(samples: list[tuple[float, float]], p99: float) -> str:
    """In which seconds of the phase the deliveries at or above the p99 were sent, the three busiest first
    ("12s:180 13s:40"): a tail spread over the phase is the server's steady cost, one bunched in a second or two
    is a stall."""
    if not samples:
        return "-"
    start = min(sent for sent, _latency in samples)
    counts = collections.Counter(int(sent - start) for sent, latency in samples if latency >= p99)
    return " ".join(f"{second}s:{count}" for second, count in counts.most_common(3)) or "-"


# --- Processes -----------------------------------------------------------------------------------------


class Redis:
    def __init__(self, port: int, folder: Path) -> None:
        self.port, self.folder, self.proc = port, folder, None  # type: ignore[var-annotated]

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no",
             "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_port(self.port)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=0.5)  # a redis-server that cannot bind its port exits at once
        if self.proc.poll() is not None:
            # Another redis-server holds the port: the resilience phase would restart ours and leave that one up.
            raise RuntimeError(f"redis-server could not listen on {self.port}")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None


class Asgi:
    def __init__(self, port: int, env: dict[str, str]) -> None:
        self.port, self.env, self.proc = port, env, None  # type: ignore[var-annotated]

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [PYTHON, *(["-m", "cProfile", "-o", str(Path(self.env["COCREATE_VAR_DIR"]) / f"asgi-{self.port}.prof")] if PROFILE else []),
             "-m", "uvicorn", "cocreate.asgi:application", "--host", "127.0.0.1", "--port", str(self.port),
             "--log-level", "warning", "--lifespan", "off", "--timeout-graceful-shutdown", "2",
             "--proxy-headers", "--no-access-log", "--ws-max-size", str(4 * int(self.env.get("WS_MAX_MESSAGE_BYTES", "16384"))),
             *([] if DEFLATE else ["--ws-per-message-deflate", "false"])],
            cwd=APP_ROOT, env=self.env, stdout=subprocess.DEVNULL, stderr=open(Path(self.env["COCREATE_VAR_DIR"]) / f"asgi-{self.port}.log", "ab"),  # noqa: SIM115
        )  # fmt: skip
        wait_port(self.port)

    def stop(self) -> None:
        if self.proc is not None:
            # uvicorn re-raises the signal after shutting down; SIGINT lets cProfile write its file first.
            self.proc.send_signal(signal.SIGINT if PROFILE else signal.SIGTERM)
            try:
                self.proc.wait(timeout=30 if PROFILE else 8)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None


def prepare_database(env: dict[str, str], clients: int) -> tuple[int, list[str]]:
    """Migrate a fresh database, collect the static files (``DEBUG=0`` serves them from WhiteNoise's manifest) and
    create a live session with ``clients`` members; return (session, tokens)."""
    subprocess.run([PYTHON, "manage.py", "migrate", "-v0"], cwd=APP_ROOT, env=env, check=True)
    subprocess.run([PYTHON, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=APP_ROOT, env=env, check=True)
    script = f"""
import json, datetime
from django.utils import timezone
from rest_framework.authtoken.models import Token
from boards import services
from boards.models import BoardMembership, Session
from cocreate.demo import seed_customers
from cocreate.models import User
seed_customers({clients})
users = list(User.objects.filter(email__startswith="customer").order_by("pk")[:{clients}])
board = services.board_create(name=f"Benchmark board {{timezone.now():%H%M%S%f}}", charter_text="bench", charter_version="1")
now = timezone.now()
BoardMembership.objects.bulk_create([BoardMembership(board=board, user=u, charter_version_accepted="1", charter_accepted_at=now) for u in users])
session = services.session_create(board=board, title="Benchmark", starts_at=now, agenda=[{{"title": "Load", "duration_minutes": 60}}])
Session.objects.filter(pk=session.pk).update(state="live")
Token.objects.bulk_create([Token(user=u, key=Token.generate_key()) for u in users], ignore_conflicts=True)
keys = list(Token.objects.filter(user__in=users).order_by("user_id").values_list("key", flat=True))
print(json.dumps({{"session": session.pk, "tokens": keys}}))
"""
    out = subprocess.run(
        [PYTHON, "manage.py", "shell", "-c", script], cwd=APP_ROOT, env=env, check=True, capture_output=True, text=True
    ).stdout
    data = json.loads([line for line in out.splitlines() if line.startswith('{"session"')][-1])
    return data["session"], data["tokens"]


# --- Clients of the live room ------------------------------------------------------------------------------


@dataclass
class RoomClient:
    index: int
    token: str
    ports: list[int]
    session: int
    heartbeat_every: float = 0.0
    # Browsers connect at different moments, so their heartbeats (every 20 s from connecting) are spread out; the
    # benchmark's sockets connect together, and unless the first beat is put at a random point of the period they
    # all beat at the same instant.
    heartbeat_random_phase: bool = True
    ws: ClientConnection | None = None
    port: int = 0
    last_id: int = 0
    received: list[tuple[int, float, str]] = field(default_factory=list)  # (event id, receipt time, body)
    via_resume: set[int] = field(default_factory=set)
    acks: dict[str, int] = field(default_factory=dict)
    pending: dict[str, dict[str, Any]] = field(default_factory=dict)
    sent_at: dict[str, float] = field(default_factory=dict)
    refused: dict[str, int] = field(default_factory=dict)  # client_msg_id → times refused as too frequent
    dropped: set[str] = field(default_factory=set)  # refused for good (any other error): never acknowledged
    resuming: bool = False
    fresh: bool = True  # no event seen yet: start from the room's newest id instead of replaying history
    stop: bool = False
    reconnects: int = 0
    presence_frames: int = 0  # presence lists received (each names everyone in the room)
    task: asyncio.Task[None] | None = None

    async def open(self, port: int) -> None:
        self.ws = await connect(
            f"ws://127.0.0.1:{port}/ws/sessions/{self.session}/",
            origin=f"http://127.0.0.1:{port}",  # type: ignore[arg-type]
            additional_headers={"Authorization": f"Token {self.token}", **PROXY_HEADERS},
            open_timeout=30,
            max_queue=None,
        )
        self.port = port
        if self.fresh:
            await self.ws.send(json.dumps({"type": "heartbeat"}))
        else:
            await self.ws.send(json.dumps({"type": "resume", "after": self.last_id}))
            self.resuming = True
        for message in list(self.pending.values()):
            await self.ws.send(json.dumps(message))

    async def run(self) -> None:
        """Receive forever; reconnect with backoff (to any ASGI process) and resume after any failure."""
        attempt = 0
        while not self.stop:
            try:
                if self.ws is None:
                    await self.open(self.ports[(self.index + attempt) % len(self.ports)])
                    attempt = 0
                beat = asyncio.create_task(self._heartbeat()) if self.heartbeat_every else None
                try:
                    async for frame in self.ws:  # type: ignore[union-attr]
                        self._on(json.loads(frame))
                finally:
                    if beat:
                        beat.cancel()
            except Exception:  # noqa: BLE001, S110 - any failure means: reconnect
                pass
            self.ws = None
            if self.stop:
                return
            self.reconnects += 1
            attempt += 1
            await asyncio.sleep(min(5.0, 0.25 * 2 ** min(attempt, 5)) * (0.5 + random.random() / 2))

    async def _heartbeat(self) -> None:
        if self.heartbeat_random_phase:
            await asyncio.sleep(random.uniform(0, self.heartbeat_every))
            if self.ws is not None:
                await self.ws.send(json.dumps({"type": "heartbeat"}))
        while True:
            await asyncio.sleep(self.heartbeat_every)
            if self.ws is not None:
                await self.ws.send(json.dumps({"type": "heartbeat"}))

    def _on(self, message: dict[str, Any]) -> None:
        now = time.time()
        kind = message["type"]
        if kind == "event":
            if message["kind"] == "chat.message":
                self.received.append((message["id"], now, message["payload"]["body"]))
                if self.resuming:
                    self.via_resume.add(message["id"])
            self.last_id = max(self.last_id, message["id"])
        elif kind == "resumed":
            self.resuming = False
        elif kind == "presence":
            self.presence_frames += 1
        elif kind == "ack" and message.get("client_msg_id"):
            self.acks[message["client_msg_id"]] = message["id"]
            self.pending.pop(message["client_msg_id"], None)
        elif kind == "error" and message.get("client_msg_id") in self.pending:
            cid = message["client_msg_id"]
            if message.get("code") == "rate_limited":
                # Refused for now, not for good: sent again later with the same id, as the browser does.
                times = self.refused[cid] = self.refused.get(cid, 0) + 1
                delay = min(RETRY_FIRST * 2 ** (times - 1), RETRY_MAX)
                asyncio.get_running_loop().call_later(delay, self._resend, cid)
            else:
                self.pending.pop(cid)
                self.dropped.add(cid)
        elif kind == "heartbeat" and self.fresh:
            self.fresh = False
            self.last_id = max(self.last_id, message["last_id"])
        elif kind == "heartbeat" and message["last_id"] > self.last_id and self.ws is not None:
            self.resuming = True
            asyncio.get_running_loop().create_task(self.ws.send(json.dumps({"type": "resume", "after": self.last_id})))
        elif kind == "resync":
            asyncio.get_running_loop().create_task(self._resync())

    async def _resync(self) -> None:
        """Too much was missed for a replay: page through the REST snapshot, then resume from its end."""
        loop = asyncio.get_running_loop()
        while True:
            body = await loop.run_in_executor(None, self._fetch, self.last_id)
            now = time.time()
            for event in body["events"]:
                if event["kind"] == "chat.message":
                    self.received.append((event["id"], now, event["payload"]["body"]))
                    self.via_resume.add(event["id"])
                self.last_id = max(self.last_id, event["id"])
            if not body["has_more"]:
                break
        if self.ws is not None:
            await self.ws.send(json.dumps({"type": "resume", "after": self.last_id}))

    def _resend(self, cid: str) -> None:
        if cid in self.pending and self.ws is not None:
            asyncio.get_running_loop().create_task(self._send_quietly(self.pending[cid]))

    async def _send_quietly(self, message: dict[str, Any]) -> None:
        with contextlib.suppress(Exception):
            if self.ws is not None:
                await self.ws.send(json.dumps(message))

    def _fetch(self, after: int) -> dict[str, Any]:
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/api/sessions/{self.session}/events/?after={after}",
            headers={"Authorization": f"Token {self.token}", "Accept": "application/json", **PROXY_HEADERS},
        )
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return dict(json.loads(response.read()))

    async def publish(self, tag: str, seq: int) -> None:
        cid = f"{tag}-{self.index}-{seq}"
        message = {"type": "chat.send", "body": f"{tag} {time.time():.6f}", "client_msg_id": cid}
        self.pending[cid] = message
        self.sent_at[cid] = time.time()
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await self.ws.send(json.dumps(message))


async def connect_all(clients: list[RoomClient], batch: int = 25) -> None:
    for start in range(0, len(clients), batch):
        group = clients[start : start + batch]
        await asyncio.gather(*(c.open(c.ports[c.index % len(c.ports)]) for c in group))
    for c in clients:
        c.task = asyncio.create_task(c.run())


async def settle(clients: list[RoomClient], timeout: float = 60) -> None:
    """Until every socket's first heartbeat was answered (the server spreads them over a few seconds).

    A client takes its starting point from that answer; one that lost its socket before it would reconnect
    without a ``resume`` and miss what was published meanwhile.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(c.fresh for c in clients):
        await asyncio.sleep(0.1)


async def publish_phase(publishers: list[RoomClient], tag: str, rate: float, duration: float) -> int:
    """Send ``rate`` messages per second in total, spread evenly over the publishers; return how many."""
    interval = 1 / rate
    start = time.monotonic()
    seq = 0
    while time.monotonic() - start < duration:
        await publishers[seq % len(publishers)].publish(tag, seq)
        seq += 1
        await asyncio.sleep(max(0.0, start + seq * interval - time.monotonic()))
    return seq


def measure(clients: list[RoomClient], publishers: list[RoomClient], tag: str) -> dict[str, Any]:
    expected = {event_id for p in publishers for cid, event_id in p.acks.items() if cid.startswith(tag + "-")}
    latencies: list[float] = []
    samples: list[tuple[float, float]] = []  # (sent at, latency in ms)
    live_lost = final_lost = dups = reorders = 0
    for c in clients:
        ids = [event_id for event_id, _t, body in c.received if body.startswith(tag + " ")]
        seen = set(ids)
        dups += len(ids) - len(seen)
        reorders += sum(1 for a, b in itertools.pairwise(ids) if b < a)
        live = {i for i in seen if i not in c.via_resume}
        live_lost += len(expected - live)
        final_lost += len(expected - seen)
        for event_id, received_at, body in c.received:
            if body.startswith(tag + " ") and event_id not in c.via_resume:
                sent = float(body.split()[1])
                latencies.append((received_at - sent) * 1000)
                samples.append((sent, latencies[-1]))
    unacked = sum(1 for p in publishers for cid in p.pending if cid.startswith(tag + "-"))
    refused = [times for p in publishers for cid, times in p.refused.items() if cid.startswith(tag + "-")]
    return {
        "published": len(expected),
        "meant": sum(1 for p in publishers for cid in p.sent_at if cid.startswith(tag + "-")),
        "unacked": unacked,
        "refused": len(refused),
        "resent": sum(refused),
        "dropped": sum(1 for p in publishers for cid in p.dropped if cid.startswith(tag + "-")),
        "deliveries": len(latencies),
        "p50_ms": percentile(latencies, 50),
        "p95_ms": percentile(latencies, 95),
        "p99_ms": percentile(latencies, 99),
        "slow_at": slow_seconds(samples, percentile(latencies, 99)),
        "live_loss": live_lost,
        "final_loss": final_lost,
        "duplicates": dups,
        "reorderings": reorders,
    }


async def wait_acked(publishers: list[RoomClient], tag: str, timeout: float) -> None:
    """Until every message of ``tag`` was acknowledged or refused for good (refused ones are sent again)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(cid.startswith(tag + "-") for p in publishers for cid in p.pending):
        await asyncio.sleep(0.25)


def start_py_spy(server: Asgi, tag: str) -> subprocess.Popen[bytes] | None:
    if not PY_SPY or server.proc is None:
        return None
    out = Path(server.env["COCREATE_VAR_DIR"]) / f"pyspy-{tag}.txt"
    return subprocess.Popen(
        [PY_SPY, "record", "--pid", str(server.proc.pid), "--format", "raw", "--threads", "--nonblocking",
         "--rate", "100", "--output", str(out)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def stop_py_spy(spy: subprocess.Popen[bytes] | None) -> None:
    if spy is not None:
        spy.send_signal(signal.SIGINT)
        try:
            spy.wait(timeout=30)
        except subprocess.TimeoutExpired:
            spy.kill()


async def wait_quiet(clients: list[RoomClient], tag: str, expected: int, timeout: float) -> None:
    """Until every client holds every acknowledged event of ``tag`` (or the timeout)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(sum(1 for _i, _t, b in c.received if b.startswith(tag + " ")) >= expected for c in clients):
            return
        await asyncio.sleep(0.25)


async def warm_up(clients: list[RoomClient], tag: str, timeout: float) -> None:
    """One message through the room before any phase, not counted: the first message a server process stores
    runs code paths for the first time (query compilation, lazy imports), and at 1 msg/s a phase's first message
    set its p99. Clients 0 and 1 are on different processes, so each process stores one."""
    sent = await publish_phase(clients[:2], tag, 2, 0.9)
    await wait_acked(clients[:2], tag, timeout=timeout)
    await wait_quiet(clients, tag, sent, timeout=timeout)


async def room_matrix(
    args: argparse.Namespace, servers: list[Asgi], session: int, tokens: list[str]
) -> list[dict[str, Any]]:
    ports = [s.port for s in servers]
    results = []
    for n in args.clients:
        clients = [
            RoomClient(i, tokens[i], ports, session, args.heartbeat, args.heartbeat_phase == "random") for i in range(n)
        ]
        t0 = time.monotonic()
        await connect_all(clients)
        connect_s = time.monotonic() - t0
        await settle(clients)
        await asyncio.sleep(2)
        await warm_up(clients, f"w{n}", args.drain)
        for rate in args.rates:
            publishers = clients[: max(1, min(n, math.ceil(rate / 2)))]  # ≤ 2 msg/s each: under the rate limit
            tag = f"r{n}x{rate}"
            cpu = cpu_seconds([s.proc.pid for s in servers if s.proc])
            client_cpu = time.process_time()
            presence = sum(c.presence_frames for c in clients)
            spy = start_py_spy(servers[0], tag)
            await publish_phase(publishers, tag, rate, args.duration)
            drain_until = time.monotonic() + args.drain
            await wait_acked(publishers, tag, timeout=args.drain)
            acked = sum(1 for p in publishers for cid in p.acks if cid.startswith(tag + "-"))
            await wait_quiet(clients, tag, acked, timeout=max(0.0, drain_until - time.monotonic()))
            stop_py_spy(spy)
            cpu = cpu_seconds([s.proc.pid for s in servers if s.proc]) - cpu
            client_cpu = time.process_time() - client_cpu
            row = {
                "server": "cocreate",
                "clients": n,
                "rate": rate,
                "connect_s": round(connect_s, 2),
                **measure(clients, publishers, tag),
            }
            row["cpu_ms_per_1k"] = round(cpu * 1e6 / max(1, row["deliveries"]), 1)
            row["client_cpu_ms_per_1k"] = round(client_cpu * 1e6 / max(1, row["deliveries"]), 1)
            row["presence_frames"] = sum(c.presence_frames for c in clients) - presence
            print(format_row(row), flush=True)
            results.append(row)
        # Late or lost: what a row counted as missing after its drain, counted again one heartbeat (and its
        # resume) later, with the clients still connected.
        if any(row["final_loss"] for row in results if row["clients"] == n):
            await asyncio.sleep(args.heartbeat + 5)
            for row in results:
                if row["clients"] == n:
                    tag = f"r{n}x{row['rate']}"
                    publishers = clients[: max(1, min(n, math.ceil(row["rate"] / 2)))]
                    row["missing_later"] = measure(clients, publishers, tag)["final_loss"]
                    print(
                        f"late or lost N={n} rate={row['rate']}/s: {row['final_loss']} missing after the drain, "
                        f"{row['missing_later']} still missing {args.heartbeat + 5:.0f} s later",
                        flush=True,
                    )
        for c in clients:
            c.stop = True
            if c.ws is not None:
                await c.ws.close()
        await asyncio.gather(*(c.task for c in clients if c.task), return_exceptions=True)
    return results


async def resilience(
    args: argparse.Namespace, ports: list[int], session: int, tokens: list[str], asgi_b: Asgi, redis: Redis
) -> dict[str, Any]:
    n = args.resilience_clients
    clients = [
        RoomClient(i, tokens[i], ports, session, args.heartbeat, args.heartbeat_phase == "random") for i in range(n)
    ]
    await connect_all(clients)
    await settle(clients)
    await asyncio.sleep(1)
    publishers = clients[: max(1, min(n, 5))]
    tag = "chaos"
    loop = asyncio.get_running_loop()

    async def chaos() -> None:
        await asyncio.sleep(2)
        for c in random.sample(clients, max(1, n // 10)):
            if c.ws is not None:
                await c.ws.close()
        await asyncio.sleep(2)
        await loop.run_in_executor(None, asgi_b.stop)
        await loop.run_in_executor(None, asgi_b.start)
        await asyncio.sleep(2)
        await loop.run_in_executor(None, redis.stop)
        await asyncio.sleep(1)
        await loop.run_in_executor(None, redis.start)

    await asyncio.gather(publish_phase(publishers, tag, 5, args.duration + 8), chaos())
    t0 = time.monotonic()
    deadline = t0 + 60
    while time.monotonic() < deadline and any(p.pending for p in publishers):
        await asyncio.sleep(0.25)
    acked = sum(1 for p in publishers for cid in p.acks if cid.startswith(tag + "-"))
    await wait_quiet(clients, tag, acked, timeout=60)
    row = {"server": "cocreate", "phase": "resilience", "clients": n, "rate": 5, "recovery_s": round(time.monotonic() - t0, 1),
           "reconnects": sum(c.reconnects for c in clients), **measure(clients, publishers, tag)}  # fmt: skip
    for c in clients:
        c.stop = True
        if c.ws is not None:
            await c.ws.close()
    await asyncio.gather(*(c.task for c in clients if c.task), return_exceptions=True)
    return row


# --- The bare websockets baseline --------------------------------------------------------------------------


def baseline_server(port: int) -> None:
    from websockets.asyncio.server import broadcast, serve

    async def main() -> None:
        connections: set[Any] = set()

        async def handler(ws: Any) -> None:
            connections.add(ws)
            try:
                async for message in ws:
                    broadcast(connections, message)
            finally:
                connections.discard(ws)

        async with serve(handler, "127.0.0.1", port, max_queue=None):
            await asyncio.Future()

    asyncio.run(main())


async def baseline_reader(ws: ClientConnection, into: list[tuple[str, float, float]]) -> None:
    with contextlib.suppress(Exception):
        async for frame in ws:
            key, sent = str(frame).rsplit(" ", 1)
            into.append((key, float(sent), time.time()))


async def baseline_matrix(args: argparse.Namespace, port: int, pid: int) -> list[dict[str, Any]]:
    results = []
    for n in args.clients:
        received: list[list[tuple[str, float, float]]] = [[] for _ in range(n)]
        sockets = []
        t0 = time.monotonic()
        for start in range(0, n, 25):
            sockets += await asyncio.gather(
                *(connect(f"ws://127.0.0.1:{port}/", max_queue=None) for _ in range(start, min(n, start + 25)))
            )
        connect_s = time.monotonic() - t0

        readers = [asyncio.create_task(baseline_reader(ws, received[i])) for i, ws in enumerate(sockets)]
        for rate in args.rates:
            tag = f"b{n}x{rate}"
            publishers = sockets[: max(1, min(n, math.ceil(rate / 2)))]
            cpu = cpu_seconds([pid])
            client_cpu = time.process_time()
            interval, start, seq = 1 / rate, time.monotonic(), 0
            while time.monotonic() - start < args.duration:
                await publishers[seq % len(publishers)].send(f"{tag}:{seq} {time.time():.6f}")
                seq += 1
                await asyncio.sleep(max(0.0, start + seq * interval - time.monotonic()))
            deadline = time.monotonic() + args.drain
            while time.monotonic() < deadline and any(
                sum(1 for k, _s, _r in r if k.startswith(tag + ":")) < seq for r in received
            ):
                await asyncio.sleep(0.1)
            cpu = cpu_seconds([pid]) - cpu
            client_cpu = time.process_time() - client_cpu
            latencies, lost, dups, reorders = [], 0, 0, 0
            for r in received:
                keys = [int(k.split(":")[1]) for k, _s, _r in r if k.startswith(tag + ":")]
                lost += seq - len(set(keys))
                dups += len(keys) - len(set(keys))
                reorders += sum(1 for a, b in itertools.pairwise(keys) if b < a)
                latencies += [(rcv - snt) * 1000 for k, snt, rcv in r if k.startswith(tag + ":")]
            row = {"server": "websockets", "clients": n, "rate": rate, "connect_s": round(connect_s, 2), "published": seq,
                   "deliveries": len(latencies), "p50_ms": percentile(latencies, 50), "p95_ms": percentile(latencies, 95),
                   "p99_ms": percentile(latencies, 99), "live_loss": lost, "final_loss": lost, "duplicates": dups, "reorderings": reorders,
                   "cpu_ms_per_1k": round(cpu * 1e6 / max(1, len(latencies)), 1),
                   "client_cpu_ms_per_1k": round(client_cpu * 1e6 / max(1, len(latencies)), 1)}  # fmt: skip
            print(format_row(row), flush=True)
            results.append(row)
        for ws in sockets:
            await ws.close()
        for task in readers:
            task.cancel()
    return results


def format_row(row: dict[str, Any]) -> str:
    return (
        f"{row.get('phase', 'fan-out'):<10} {row['server']:<10} N={row['clients']:<4} rate={row['rate']:<3}/s "
        f"published={row['published']:<5} deliveries={row['deliveries']:<7} p50={row['p50_ms']:8.1f} ms "
        f"p95={row['p95_ms']:8.1f} ms p99={row['p99_ms']:8.1f} ms live_loss={row['live_loss']} "
        f"final_loss={row['final_loss']} dups={row['duplicates']} reorder={row['reorderings']}"
        + (f" server_cpu={row['cpu_ms_per_1k']} ms/1k deliveries" if "cpu_ms_per_1k" in row else "")
        + (f" client_cpu={row['client_cpu_ms_per_1k']} ms/1k" if "client_cpu_ms_per_1k" in row else "")
        + (f" presence_frames={row['presence_frames']}" if "presence_frames" in row else "")
        + (f" slow_at=[{row['slow_at']}]" if "slow_at" in row else "")
        + (
            f" meant={row['meant']} unacked={row['unacked']} refused={row['refused']} resent={row['resent']}"
            f" dropped={row['dropped']}"
            if "meant" in row
            else ""
        )
        + (f" recovery={row['recovery_s']} s reconnects={row['reconnects']}" if "recovery_s" in row else "")
    )


async def run(args: argparse.Namespace) -> None:
    folder = Path(tempfile.mkdtemp(prefix="cocreate-bench-"))
    redis = Redis(args.redis_port, folder)
    redis.start()
    env = {
        **os.environ,
        "COCREATE_VAR_DIR": str(folder),
        "REDIS_URL": f"redis://127.0.0.1:{args.redis_port}",
        "DATABASE_URL": args.database_url or f"sqlite:///{folder / 'bench.sqlite3'}",
        # Production mode, with what it refuses to start without (cocreate/settings.py).
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(60),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "LOG_LEVEL": "WARNING",
        # Keep database connections between messages: Channels closes them after each one otherwise.
        "DB_CONN_MAX_AGE": "60",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    biggest = max([*args.clients, args.resilience_clients])
    print(f"preparing {biggest} members in {folder} …", flush=True)
    try:
        session, tokens = prepare_database(env, biggest)
    except BaseException:
        redis.stop()
        raise
    servers = [Asgi(free_port(), env), Asgi(free_port(), env)]
    base_port = free_port()
    baseline = subprocess.Popen([PYTHON, __file__, "--baseline-server", str(base_port)])
    results: list[dict[str, Any]] = []
    try:
        for server in servers:
            server.start()
        wait_port(base_port)
        ports = [s.port for s in servers]
        results += await baseline_matrix(args, base_port, baseline.pid)
        results += await room_matrix(args, servers, session, tokens)
        if args.resilience_clients:
            row = await resilience(args, ports, session, tokens, servers[1], redis)
            print(format_row(row), flush=True)
            results.append(row)
    finally:
        baseline.terminate()
        for server in servers:
            server.stop()
        redis.stop()
    print("\np99 ratio cocreate / websockets baseline:")
    for row in results:
        if row["server"] == "cocreate" and "phase" not in row:
            base = next(
                (
                    b
                    for b in results
                    if b["server"] == "websockets" and b["clients"] == row["clients"] and b["rate"] == row["rate"]
                ),
                None,
            )
            if base and base["p99_ms"] > 0:
                print(
                    f"  N={row['clients']:<4} rate={row['rate']:<3}/s  {row['p99_ms'] / base['p99_ms']:6.1f}x  (median {row['p50_ms'] / max(base['p50_ms'], 0.001):.1f}x at p50;"
                    f" server CPU per delivery {row['cpu_ms_per_1k'] / max(base['cpu_ms_per_1k'], 0.001):.1f}x)"
                )
    out = ROOT / "artifacts" / "benchmarks"
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench_live.json").write_text(json.dumps(results, indent=2))
    print(f"\nresults: {out / 'bench_live.json'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", default="10,50,200,500", type=lambda s: [int(x) for x in s.split(",")])
    parser.add_argument("--rates", default="1,10,50", type=lambda s: [int(x) for x in s.split(",")])
    parser.add_argument("--duration", type=float, default=10, help="seconds of publishing per rate")
    parser.add_argument("--drain", type=float, default=20, help="seconds to wait for stragglers after publishing")
    parser.add_argument("--heartbeat", type=float, default=20, help="client heartbeat interval (seconds)")
    parser.add_argument(
        "--heartbeat-phase",
        choices=["random", "together"],
        default="random",
        help="first heartbeat at a random point of the interval (as browsers that connect at different times), "
        "or every socket's at the same instant",
    )
    parser.add_argument("--app-root", default=str(ROOT), help="run the servers from this checkout")
    parser.add_argument("--py-spy", default="", help="py-spy executable: sample the first ASGI process per phase")
    parser.add_argument("--resilience-clients", type=int, default=200)
    parser.add_argument("--redis-port", type=int, default=6390)
    parser.add_argument(
        "--ports", default="8300-8399", help="range for the ASGI processes and the baseline server (first-last)"
    )
    parser.add_argument("--database-url", default="")
    parser.add_argument("--deflate", action="store_true", help="allow permessage-deflate on the ASGI processes")
    parser.add_argument("--profile", action="store_true", help="profile the ASGI processes (cProfile)")
    parser.add_argument("--baseline-server", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    first, last = (int(x) for x in args.ports.split("-"))
    PORTS.extend(range(first, last + 1))
    global PROFILE, DEFLATE, APP_ROOT, PY_SPY
    PROFILE, DEFLATE, APP_ROOT, PY_SPY = args.profile, args.deflate, Path(args.app_root), args.py_spy
    if args.baseline_server:
        baseline_server(args.baseline_server)
        return
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
