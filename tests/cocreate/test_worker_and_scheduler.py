"""The task queue really runs: a real Celery worker with its scheduler, on whichever broker the settings name
(the filesystem broker by default, Redis when REDIS_URL is set), fires the heartbeat job by itself."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def manage(*args: str, env: dict[str, str]) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_the_worker_runs_queued_tasks_and_the_scheduler_fires_periodic_ones(tmp_path: Path) -> None:
    env = {**os.environ, "COCREATE_VAR_DIR": str(tmp_path), "CELERY_EAGER": "0"}
    env.pop("PYTEST_CURRENT_TEST", None)
    read_beat = "from django.core.cache import cache; print(cache.get('celery-heartbeat'))"
    clear = "from django.core.cache import cache; cache.delete('celery-heartbeat'); print('cleared')"
    manage("shell", "-c", clear, env=env)
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "cocreate", "worker", "-B", "-s", str(tmp_path / "schedule"),
         "--concurrency", "1", "-l", "WARNING"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        # A task queued by another process reaches the worker through the broker.
        manage("shell", "-c", "from cocreate.tasks import heartbeat; heartbeat.delay(); print('sent')", env=env)
        deadline = time.monotonic() + 30
        first = "None"
        while time.monotonic() < deadline and first == "None":
            time.sleep(1)
            first = manage("shell", "-c", read_beat, env=env)
        assert first != "None", "the worker did not run the queued task"
        # The scheduler fires the heartbeat every 30 s on its own.
        deadline = time.monotonic() + 45
        second = first
        while time.monotonic() < deadline and second == first:
            time.sleep(2)
            second = manage("shell", "-c", read_beat, env=env)
        assert second != first, "the scheduler did not fire the periodic heartbeat"
    finally:
        worker.terminate()
        worker.wait(timeout=30)
