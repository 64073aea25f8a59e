"""redis-py 8 with channels-redis 4.3 closed every idle WebSocket after about 5 s (channels_redis#422).
This proves, against a real server on the Redis channel layer, that an idle socket lives past a minute."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from websockets.asyncio.client import connect

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(not settings.REDIS_URL, reason="runs in the PostgreSQL + Redis pass of CI (REDIS_URL)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_an_idle_socket_on_the_redis_layer_survives_a_minute() -> None:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "cocreate.asgi:application", "--port", str(port), "--lifespan", "off"],
        cwd=ROOT, env={**os.environ, "CELERY_EAGER": "1"}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.3)

        async def idle_then_ping() -> dict[str, object]:
            async with connect(f"ws://127.0.0.1:{port}/ws/ping/", origin=f"http://127.0.0.1:{port}") as ws:
                await asyncio.sleep(65)
                await ws.send(json.dumps({"type": "ping", "echo": "still here"}))
                return json.loads(await asyncio.wait_for(ws.recv(), timeout=10))

        assert asyncio.run(idle_then_ping()) == {"type": "pong", "user": None, "echo": "still here"}
    finally:
        server.terminate()
        server.wait(timeout=20)
