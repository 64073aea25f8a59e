"""Fault drill: stop the platform's PRIVATE Redis during traffic, then start it again.

Shows that pages keep serving while Redis is down, that /healthz reports the fault (503) and the recovery (200),
and how long each took. Never touches the machine's shared Redis on 6379. Run against the platform started as in
``load_mixed.py`` (Redis on port 6390)::

    python tests/benchmarks/faults_redis.py --url http://127.0.0.1:8790 --redis-port 6390

First measured run: with Redis stopped, ``/`` and ``/ideas/`` answered 500 (the Redis cache raises), ``/api/ideas/``
kept answering 200, and ``/healthz`` answered 500 instead of 503 (its own ``cache.get`` of the scheduler heartbeat
raises before the report is returned); all recovered within one poll of Redis coming back. The script exits 1
until pages degrade instead of failing and /healthz says 503.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections import Counter

SHARED_REDIS_PORT = 6379


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - loopback URL given by the operator
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
    except OSError:
        return 0, b""


def traffic(
    base: str,
    phase: list[str],
    seen: Counter[tuple[str, int]],
    by_path: Counter[tuple[str, str, int]],
    stop: threading.Event,
) -> None:
    while not stop.is_set():
        for path in ("/", "/ideas/", "/api/ideas/"):
            status, _ = get(base + path)
            seen[(phase[0], status)] += 1
            by_path[(phase[0], path, status)] += 1
        time.sleep(0.1)


def wait_health(base: str, healthy: bool, timeout: float) -> tuple[float, int, dict[str, object]]:
    """Seconds until /healthz answers 200 (``healthy``) or anything else; the status and the JSON body if any."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        status, body = get(base + "/healthz")
        if (status == 200) == healthy:
            try:
                data = json.loads(body)
            except ValueError:
                data = {}
            return time.monotonic() - started, status, data
        time.sleep(0.2)
    raise SystemExit(f"/healthz did not turn {'healthy' if healthy else 'unhealthy'} within {timeout}s")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default="http://127.0.0.1:8790")
    parser.add_argument("--redis-port", type=int, default=6390)
    parser.add_argument("--down-seconds", type=float, default=10)
    args = parser.parse_args()
    if args.redis_port == SHARED_REDIS_PORT:
        raise SystemExit("refusing to stop the shared Redis")
    port = str(args.redis_port)
    phase = ["before"]
    seen: Counter[tuple[str, int]] = Counter()
    by_path: Counter[tuple[str, str, int]] = Counter()
    stop = threading.Event()
    worker = threading.Thread(target=traffic, args=(args.url, phase, seen, by_path, stop), daemon=True)
    worker.start()
    wait_health(args.url, True, 30)
    time.sleep(2)

    phase[0] = "redis-down"
    subprocess.run(["redis-cli", "-p", port, "shutdown", "nosave"], check=False, capture_output=True)
    detect, status, body = wait_health(args.url, False, 60)
    checks: dict[str, dict[str, object]] = body.get("checks", {})  # type: ignore[assignment]
    failing = sorted(name for name, check in checks.items() if not check.get("ok"))
    print(f"/healthz answered {status} (503 expected) after {detect:.1f}s, failing checks: {failing}")
    time.sleep(args.down_seconds)

    phase[0] = "recovering"
    subprocess.run(
        ["redis-server", "--port", port, "--save", "", "--appendonly", "no", "--daemonize", "yes"], check=True
    )
    recover, _, _ = wait_health(args.url, True, 120)
    print(f"/healthz 200 again {recover:.1f}s after Redis restarted")
    phase[0] = "after"
    time.sleep(3)
    stop.set()
    worker.join(timeout=15)
    for (when, path, code), count in sorted(by_path.items()):
        print(f"{when:11} {path:12} status {code}: {count}")
    served_down = sum(n for (p, s), n in seen.items() if p == "redis-down" and s == 200)
    failed_down = sum(n for (p, s), n in seen.items() if p == "redis-down" and s != 200)
    print(f"pages served while Redis was down: {served_down} ok, {failed_down} not ok")
    ok = served_down and not failed_down and status == 503 and not any(s >= 500 for (p, s) in seen if p == "after")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
