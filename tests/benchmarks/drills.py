"""What the fault drills share: a private Redis, the platform's processes started and killed one by one, polling.

Every drill runs against PostgreSQL (``DATABASE_URL``) and a redis-server of its own on a free port in
``FAULTS_PORTS`` (default 8700-8799); the machine's shared Redis on 6379 is never stopped. The processes get
a short heartbeat (2 s, stale after 6 s) and a short visibility timeout (10 s) and outbox redelivery (flush every 2 s, again after 8 s) so a drill takes seconds, not the
production defaults' minutes; the drills say which production figure each stands for.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SHARED_REDIS_PORT = 6379


def free_port(taken: set[int]) -> int:
    """A port in FAULTS_PORTS nobody listens on (and not handed out before in this run)."""
    low, high = (int(p) for p in os.environ.get("FAULTS_PORTS", "8700-8799").split("-"))
    for port in range(low, high + 1):
        if port in taken or port == SHARED_REDIS_PORT:
            continue
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) != 0:
                taken.add(port)
                return port
    raise RuntimeError(f"no free port in {low}-{high}")


def get(url: str, timeout: float = 10) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - loopback URLs only
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
    except OSError:
        return 0, b""


def wait_for(condition: Callable[[], Any], timeout: float, what: str, interval: float = 0.2) -> float:
    """Seconds until ``condition()`` is truthy; AssertionError naming ``what`` after ``timeout``."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if condition():
            return time.monotonic() - started
        time.sleep(interval)
    raise AssertionError(f"{what}: not within {timeout:.0f} s")


def health(base: str) -> tuple[int, dict[str, Any]]:
    status, body = get(base + "/healthz")
    try:
        return status, json.loads(body)
    except ValueError:
        return status, {}


def failing_checks(report: dict[str, Any]) -> list[str]:
    return sorted(name for name, check in report.get("checks", {}).items() if not check.get("ok"))


@dataclass
class Platform:
    """The platform's processes for one drill, on PostgreSQL and a private Redis; ``close()`` ends them all."""

    database_url: str
    var_dir: Path
    ports: set[int] = field(default_factory=set)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    redis_port: int = 0

    def __post_init__(self) -> None:
        if not self.database_url.startswith("postgres"):
            raise SystemExit("the fault drills need PostgreSQL: set DATABASE_URL")
        if shutil.which("redis-server") is None:
            raise SystemExit("the fault drills need redis-server on PATH")
        self.redis_port = free_port(self.ports)
        (self.var_dir / "mail").mkdir(parents=True, exist_ok=True)

    @property
    def env(self) -> dict[str, str]:
        env = {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "REDIS_URL": f"redis://127.0.0.1:{self.redis_port}/0",
            "COCREATE_VAR_DIR": str(self.var_dir),
            "EMAIL_FILE_PATH": str(self.var_dir / "mail"),
            "CELERY_EAGER": "0",
            "HEARTBEAT_SECONDS": "2",
            "HEARTBEAT_MAX_AGE": "6",
            "CELERY_VISIBILITY_TIMEOUT": "10",
            "OUTBOX_FLUSH_SECONDS": "2",
            "OUTBOX_REDELIVER_AFTER": "8",
            "PYTHONUNBUFFERED": "1",
        }
        for name in ("PYTEST_CURRENT_TEST", "PYTEST_XDIST_WORKER", "DJANGO_ALLOW_ASYNC_UNSAFE"):
            env.pop(name, None)
        return env

    def start_redis(self) -> None:
        subprocess.run(
            ["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
             "no", "--daemonize", "yes", "--dir", str(self.var_dir), "--pidfile", str(self.var_dir / "redis.pid")],
            check=True, capture_output=True,
        )  # fmt: skip
        wait_for(lambda: self.redis("ping") == "PONG", 10, "private Redis answering")

    def stop_redis(self) -> None:
        if self.redis_port == SHARED_REDIS_PORT:
            raise SystemExit("refusing to stop the shared Redis")
        self.redis("shutdown", "nosave")
        wait_for(lambda: self.redis("ping") != "PONG", 10, "private Redis stopped")

    def redis(self, *command: str, db: int = 0) -> str:
        result = subprocess.run(
            ["redis-cli", "-p", str(self.redis_port), "-n", str(db), *command], capture_output=True, text=True
        )
        return result.stdout.strip()

    def start(self, name: str, command: list[str]) -> subprocess.Popen[bytes]:
        log = (self.var_dir / f"{name}.log").open("ab")
        process = subprocess.Popen(
            command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.processes[name] = process
        return process

    def start_web(self, *names: str) -> list[str]:
        """Start one uvicorn process per name, all at once, and return their base URLs once each answers."""
        bases = []
        for name in names:
            port = free_port(self.ports)
            self.start(
                name,
                [sys.executable, "-m", "uvicorn", "cocreate.asgi:application", "--host", "127.0.0.1", "--port",
                 str(port), "--lifespan", "off", "--no-access-log", "--timeout-graceful-shutdown", "2"],
            )  # fmt: skip
            bases.append(f"http://127.0.0.1:{port}")
        for name, base in zip(names, bases, strict=True):
            wait_for(lambda base=base: get(base + "/healthz", timeout=5)[0] in (200, 503), 90, f"{name} answering")
        return bases

    def start_worker(self, name: str = "worker") -> None:
        self.start(
            name,
            [sys.executable, "-m", "celery", "-A", "cocreate", "worker", "-B", "-s",
             str(self.var_dir / "beat-schedule"), "--concurrency", "2", "-l", "INFO", "-n", f"{name}@%h"],
        )  # fmt: skip

    def kill(self, name: str) -> None:
        """SIGKILL the process and everything it started (a worker's pool children too): no cleanup runs."""
        process = self.processes.pop(name)
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def manage(self, *args: str, timeout: float = 120) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True, text=True,
            timeout=timeout,
        )  # fmt: skip
        if result.returncode != 0:
            raise AssertionError(f"manage.py {args[0]} failed: {result.stderr[-2000:]}")
        return result.stdout

    def log_tail(self, name: str, lines: int = 30) -> str:
        path = self.var_dir / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def close(self) -> None:
        for name in list(self.processes):
            process = self.processes.pop(name)
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        if self.redis("ping") == "PONG":
            self.stop_redis()


@contextmanager
def platform(database_url: str, var_dir: Path) -> Iterator[Platform]:
    running = Platform(database_url=database_url, var_dir=var_dir)
    try:
        running.start_redis()
        yield running
    finally:
        running.close()


def database_url_of_current_connection() -> str:
    """The URL of the database this (pytest) process uses: the drills' processes must share its rows."""
    from django.db import connection

    params = connection.settings_dict
    password = f":{params['PASSWORD']}" if params.get("PASSWORD") else ""
    host = params.get("HOST") or "127.0.0.1"
    port = params.get("PORT") or 5432
    return f"postgres://{params.get('USER') or 'postgres'}{password}@{host}:{port}/{params['NAME']}"


def drill_on_fresh_platform(prefix: str, drill: Callable[..., dict[str, Any]], **options: Any) -> dict[str, Any]:
    """A drill script's run from the shell: Django set up, the platform started in a scratch folder on
    ``DATABASE_URL``, the drill run against it and its figures returned."""
    import tempfile

    import django

    django.setup()
    with tempfile.TemporaryDirectory(prefix=prefix) as var, platform(os.environ["DATABASE_URL"], Path(var)) as running:
        return drill(running, **options)
