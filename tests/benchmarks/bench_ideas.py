"""Ideas benchmark: list pages and concurrent supporting, as ratios against bare Django views on the same server.

Run against PostgreSQL with generated data (not part of the test suite):

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/cc_ideas_bench
    python manage.py migrate && python manage.py generate_ideas --ideas 100000 --supports 1000000
    python tests/benchmarks/bench_ideas.py [--workers 2] [--seconds 10] [--connections 32]

It starts ``uvicorn --workers N`` with the real settings plus two bare views, drives it with ``wrk`` (apt package
``wrk``), and prints throughput and p50/p99 for each endpoint and its ratio to the baseline. It then checks that
the list pages cost a constant number of queries, runs 64 concurrent supports on one idea over HTTP (the same
user twice among them), and verifies that every idea's count equals its support rows.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.benchmarks.ideas_bench_settings")
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(60))
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("SESSION_COOKIE_SECURE", "0")
os.environ.setdefault("CSRF_COOKIE_SECURE", "0")

import django  # noqa: E402

# The package first: its Celery app reads settings on import, and reaching them through this settings module
# (which star-imports cocreate.settings) would otherwise find that module half-imported.
import cocreate  # noqa: E402, F401

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from rest_framework.authtoken.models import Token  # noqa: E402

from cocreate.models import User  # noqa: E402
from ideas.models import Idea, IdeaCampaignPage, Support  # noqa: E402

PORT = int(os.environ.get("BENCH_PORT", "18793"))
BASE = f"http://127.0.0.1:{PORT}"
LATENCY = re.compile(r"^\s+(50|99)(?:\.000)?%\s+([\d.]+)(us|ms|s)\s*$", re.M)


def wrk(url: str, *, seconds: int, connections: int, script: str | None = None) -> dict[str, float]:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "30s", "--latency"]
    if script:
        command += ["-s", script]
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    result = {"rps": rps, "non2xx": float(non2xx.group(1)) if non2xx else 0.0}
    for percentile, value, unit in LATENCY.findall(out):
        result[f"p{percentile}"] = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    return result


def start_server(workers: int) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "cocreate.asgi:application",
            "--workers",
            str(workers),
            "--port",
            str(PORT),
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env={**os.environ},
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )
    for _ in range(120):
        if server.poll() is not None:
            raise SystemExit(f"the benchmark server exited (is port {PORT} free? set BENCH_PORT)")
        try:
            urllib.request.urlopen(f"{BASE}/bench/bare-list/", timeout=2)  # noqa: S310
            return server
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.5)
    os.killpg(server.pid, signal.SIGTERM)
    raise SystemExit("the benchmark server did not start")


def support_script(tokens: list[str], idea_ids: list[int], directory: str) -> str:
    """A wrk Lua script: each request supports a random published idea as a random user (token auth)."""
    path = Path(directory) / "support.lua"
    path.write_text(
        "local tokens = {" + ",".join(f'"{t}"' for t in tokens) + "}\n"
        "local ideas = {" + ",".join(str(i) for i in idea_ids) + "}\n"
        "math.randomseed(os.time())\n"
        "request = function()\n"
        "  local t = tokens[math.random(#tokens)]\n"
        "  local i = ideas[math.random(#ideas)]\n"
        '  return wrk.format("POST", "/api/ideas/" .. i .. "/support/", '
        '{["Authorization"] = "Token " .. t, ["Content-Type"] = "application/json"}, "{}")\n'
        "end\n"
    )
    return str(path)


def insert_script(user_id: int, directory: str) -> str:
    path = Path(directory) / "insert.lua"
    path.write_text(
        "request = function()\n"
        f'  return wrk.format("POST", "/bench/bare-insert/?user={user_id}", '
        '{["Content-Type"] = "application/json"}, "{}")\n'
        "end\n"
    )
    return str(path)


def query_counts(campaign: IdeaCampaignPage) -> dict[str, list[str]]:
    """Queries of pages 1, 2 and 200, each asked twice: ``"first/second"``."""
    client = Client()
    counts: dict[str, list[str]] = {}
    for name, template in [
        ("campaign page", campaign.url + "?sort=supported&page={page}"),
        ("api list", "/api/ideas/?ordering=-supporters&page={page}"),
    ]:
        counts[name] = []
        for page in (1, 2, 200):
            pair = []
            for _ in range(2):
                with CaptureQueriesContext(connection) as queries:
                    response = client.get(template.format(page=page), HTTP_HOST="127.0.0.1")
                assert response.status_code == 200, (name, page, response.status_code)
                pair.append(str(len(queries)))
            counts[name].append("/".join(pair))
    return counts


def concurrent_same_idea(tokens: list[str], idea_id: int) -> tuple[int, int, int]:
    """64 simultaneous supports of one idea over HTTP, the first user twice; returns (ok, count, rows)."""
    chosen = [*tokens[:63], tokens[0]]
    barrier = threading.Barrier(len(chosen))
    statuses: list[int] = []

    def post(token: str) -> None:
        request = urllib.request.Request(  # noqa: S310
            f"{BASE}/api/ideas/{idea_id}/support/",
            data=b"{}",
            method="POST",
            headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
        )
        barrier.wait()
        try:
            with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
                statuses.append(response.status)
        except urllib.error.HTTPError as error:
            statuses.append(error.code)

    threads = [threading.Thread(target=post, args=(t,)) for t in chosen]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    idea = Idea.objects.get(pk=idea_id)
    rows = Support.objects.filter(idea_id=idea_id, counts=True).count()
    return sum(1 for s in statuses if s in (200, 201)), idea.supporters_count, rows


def mismatched_counts() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM ideas_idea i LEFT JOIN (SELECT idea_id, count(*) n FROM ideas_support "
            "WHERE counts GROUP BY idea_id) s ON s.idea_id = i.id WHERE i.supporters_count <> coalesce(s.n, 0)"
        )
        return int(cursor.fetchone()[0])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    if not settings.IS_POSTGRES:
        raise SystemExit("Run with DATABASE_URL=postgres://... (the support benchmark needs PostgreSQL).")
    campaign = IdeaCampaignPage.objects.filter(slug="benchmark-ideas").first()
    if campaign is None:
        raise SystemExit("Generate the data first: manage.py generate_ideas")
    from django.core.management import call_command

    call_command("collectstatic", interactive=False, verbosity=0)  # DEBUG=0 serves hashed files from a manifest
    print(
        f"data: {Idea.objects.count():,} ideas, {Support.objects.count():,} supports; "
        f"{args.workers} uvicorn workers, wrk {args.connections} connections x {args.seconds}s"
    )
    users = list(User.objects.filter(email__startswith="bench").order_by("pk")[:2000])
    tokens = [Token.objects.get_or_create(user=user)[0].key for user in users]
    published = list(
        Idea.objects.filter(campaign=campaign, status=Idea.Status.PUBLISHED)
        .order_by("?")
        .values_list("pk", flat=True)[:3000]
    )
    fresh = (
        Idea.objects.filter(campaign=campaign, status=Idea.Status.PUBLISHED)
        .exclude(supports__user__in=users[:63])
        .exclude(creator__in=users[:63])
        .order_by("supporters_count")
        .first()
    )
    fresh_before = fresh.supporters_count if fresh else 0
    counts = query_counts(campaign)
    connection.close()

    server = start_server(args.workers)
    results: dict[str, dict[str, float]] = {}
    try:
        with tempfile.TemporaryDirectory() as directory:
            for path in ("/bench/bare-list/", campaign.url + "?sort=supported", "/api/ideas/?ordering=-supporters"):
                wrk(BASE + path, seconds=2, connections=8)  # warm up every worker
            plan = [
                ("bare list view", BASE + "/bench/bare-list/", None),
                ("campaign page (most supported)", BASE + campaign.url + "?sort=supported", None),
                ("campaign page 50 (trending)", BASE + campaign.url + "?sort=trending&page=50", None),
                ("GET /api/ideas/?ordering=-supporters", BASE + "/api/ideas/?ordering=-supporters", None),
                ("bare insert view", BASE + "/bench/bare-insert/", insert_script(users[0].pk, directory)),
                ("POST /api/ideas/{id}/support/", BASE + "/", support_script(tokens, published, directory)),
            ]
            for name, url, script in plan:
                results[name] = wrk(url, seconds=args.seconds, connections=args.connections, script=script)
        same_idea = concurrent_same_idea(tokens, fresh.pk) if fresh else (0, 0, 0)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)

    def line(name: str, baseline: str) -> str:
        r, b = results[name], results[baseline]
        return (
            f"{name:<40} {r['rps']:8.1f} req/s  p50 {r.get('p50', 0):7.1f} ms  p99 {r.get('p99', 0):7.1f} ms  "
            f"throughput x{r['rps'] / b['rps']:.2f}  p50 x{r.get('p50', 0) / max(b.get('p50', 1e-9), 1e-9):.2f}  "
            f"p99 x{r.get('p99', 0) / max(b.get('p99', 1e-9), 1e-9):.2f}  non-2xx {int(r['non2xx'])}"
        )

    print()
    for name in results:
        baseline = "bare insert view" if "insert" in name or "POST" in name else "bare list view"
        print(line(name, baseline))
    print()
    print(f"queries per page (pages 1, 2, 200; first request/second): {json.dumps(counts)}")
    ok, count, rows = same_idea
    print(
        f"64 concurrent supports of idea {fresh.pk if fresh else '-'} (63 new users, one of them twice): "
        f"{ok} answered 2xx; count {fresh_before} -> {count}; support rows {rows}"
    )
    print(f"ideas whose count differs from their support rows: {mismatched_counts()}")


if __name__ == "__main__":
    main()
