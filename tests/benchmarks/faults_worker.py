"""Fault drill: kill -9 the Celery worker while it sends a board's minutes e-mails, then start it again.

The e-mails are queued by the real service (``minutes_email_members``, one per member, each with its
idempotency key) through a private Redis broker, and written one file each by Django's file e-mail backend.
The drill kills the worker and its pool children with SIGKILL once a share of them has gone, checks that
``/healthz`` reports the stale worker heartbeat (503), starts a new worker, and checks that ``/healthz``
recovers and that every member got the e-mail exactly once: tasks are acknowledged late, so the ones the
dead worker held are delivered again (after the broker's visibility timeout), and ``send_email``'s key
stops a second send.

Full form (a migrated PostgreSQL database; the drill makes its own board and members)::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cc_faults \\
        python tests/benchmarks/faults_worker.py --members 1000

The short form runs in CI: ``pytest -m faults tests/quality/test_faults.py`` (``make test-faults``).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cocreate.settings")

from tests.benchmarks.drills import Platform, drill_on_fresh_platform, failing_checks, health, wait_for


def make_board(members: int) -> tuple[int, list[str]]:
    """A board with ``members`` members and an ended session; returns the session id and their addresses."""
    from uuid import uuid4

    from django.utils import timezone

    from boards.models import BoardMembership
    from cocreate.models import User
    from tests.boards.factories import BoardFactory, SessionFactory

    run = uuid4().hex[:8]
    board = BoardFactory(name=f"Drill board {run}")
    users = User.objects.bulk_create(
        User(email=f"drill-{run}-{i}@example.com", username=f"drill-{run}-{i}", display_name=f"Member {i}")
        for i in range(members)
    )
    BoardMembership.objects.bulk_create(
        BoardMembership(
            board=board, user=user, charter_version_accepted=board.charter_version, charter_accepted_at=timezone.now()
        )
        for user in users
    )
    session = SessionFactory(board=board, state="ended")
    return session.pk, [user.email for user in users]


def sent_to(mail_dir: Path) -> Counter[str]:
    """How many e-mails each address received, read from the file backend's output."""
    counts: Counter[str] = Counter()
    for path in mail_dir.iterdir():
        for address in re.findall(r"^To: (\S+)$", path.read_text(errors="replace"), flags=re.MULTILINE):
            counts[address] += 1
    return counts


def files_in(mail_dir: Path) -> int:
    """Cheap progress while polling: the file backend writes one file per connection, and each task opens one."""
    return sum(1 for _ in mail_dir.iterdir())


def drill(running: Platform, *, members: int, kill_share: float = 0.25) -> dict[str, Any]:
    session_id, addresses = make_board(members)
    mail_dir = running.var_dir / "mail"
    running.start_worker("worker")
    [web] = running.start_web("web")
    wait_for(lambda: health(web)[0] == 200, 60, "/healthz healthy with the worker running")

    queue = (
        "from boards.models import Session; from boards.services import minutes_email_members; "
        f"print(minutes_email_members(session=Session.objects.get(pk={session_id})))"
    )
    # Queued from another process while the worker is already sending: the kill falls mid-stream.
    with ThreadPoolExecutor(1) as pool:
        queued = pool.submit(running.manage, "shell", "-c", queue)
        wait_for(lambda: files_in(mail_dir) >= members * kill_share, 120, "first e-mails sent", 0.05)
        running.kill("worker")
        sent_at_kill = files_in(mail_dir)
        assert queued.result().strip().splitlines()[-1] == str(members)
    unacked_at_kill = int(running.redis("hlen", "unacked", db=2) or 0)
    queued_at_kill = int(running.redis("llen", "celery", db=2) or 0)

    stale = wait_for(lambda: health(web)[0] == 503, 30, "/healthz reporting the dead worker")
    _status, report = health(web)
    failing = failing_checks(report)
    worker_error = report.get("checks", {}).get("worker", {}).get("error", "")
    time.sleep(2)
    sent_while_down = files_in(mail_dir) - sent_at_kill

    restarted = time.monotonic()
    running.start_worker("worker")
    recovered = wait_for(lambda: health(web)[0] == 200, 60, "/healthz healthy after the restart")
    wait_for(lambda: set(sent_to(mail_dir)) >= set(addresses), 120, "every member's e-mail sent", 0.5)
    all_sent = time.monotonic() - restarted
    time.sleep(3)  # anything delivered twice would show up now
    counts = sent_to(mail_dir)
    figures = {
        "members": members,
        "sent_at_kill": sent_at_kill,
        "unacked_at_kill": unacked_at_kill,
        "queued_at_kill": queued_at_kill,
        "sent_while_down": sent_while_down,
        "healthz_503_after_s": round(stale, 1),
        "failing_checks": failing,
        "worker_error": worker_error,
        "healthz_200_after_restart_s": round(recovered, 1),
        "all_sent_after_restart_s": round(all_sent, 1),
        "missing": sorted(set(addresses) - set(counts)),
        "duplicates": sorted(a for a in addresses if counts[a] > 1),
    }
    return figures


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=1000)
    args = parser.parse_args()
    figures = drill_on_fresh_platform("faults-worker-", drill, members=args.members)
    for name, value in figures.items():
        print(f"{name:28} {value if not isinstance(value, list) or len(value) < 10 else f'{len(value)} items'}")
    ok = not figures["missing"] and not figures["duplicates"] and figures["failing_checks"] == ["worker"]
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
