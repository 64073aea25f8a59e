"""Two refreshes of the same roll-up take turns: the second waits for the first's transaction (the advisory lock
on PostgreSQL, the single writer on SQLite), then replaces its rows with the same numbers. Run back to back, or at
the same time, they leave exactly the rows one refresh from nothing leaves."""

from __future__ import annotations

import datetime
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from cocreate.insights import rollups, selectors
from cocreate.models import ActivityMonth, IdeaDemand, ResponseWait
from tests.insights.conftest import RANGE, World

JANUARY = datetime.date(2026, 1, 1)


def _activity_rows() -> list[tuple[Any, ...]]:
    return sorted(
        ActivityMonth.objects.values_list(
            "month", "user_id", "tier", "campaign_id", "ideas", "supports", "comments", "sessions"
        )
    )


def _demand_rows() -> list[tuple[Any, ...]]:
    return sorted(IdeaDemand.objects.values_list("idea_id", "tier", "accounts", "revenue_cents"))


def _wait_rows() -> list[tuple[Any, ...]]:
    return sorted(ResponseWait.objects.values_list("kind", "idea_id", "ref", "at", "seconds"))


def _all_rows() -> dict[str, list[tuple[Any, ...]]]:
    return {"activity": _activity_rows(), "demand": _demand_rows(), "waits": _wait_rows()}


def _from_nothing() -> dict[str, list[tuple[Any, ...]]]:
    """The rows one refresh leaves when it starts from empty tables."""
    ActivityMonth.objects.all().delete()
    IdeaDemand.objects.all().delete()
    ResponseWait.objects.all().delete()
    for month in RANGE.months():
        rollups.activity_month_rebuild(first=rollups.month_start(month))
    rollups.idea_demand_rebuild()
    rollups.response_waits_refresh(whole=True)
    return _all_rows()


def test_the_refresh_run_twice_in_a_row_leaves_the_rows_of_one_refresh_from_nothing(world: World) -> None:
    first = rollups.rollups_refresh(RANGE.months())
    second = rollups.rollups_refresh(RANGE.months())
    # The second run rebuilt the recent months and demand again and rewrote only the waits that changed since the
    # first (every idea of the world was saved within the overlap, so all of them).
    assert first["response_waits"]["whole"] is True
    assert second["response_waits"]["whole"] is False
    twice = _all_rows()
    # No person counted twice in a month and campaign, no idea twice in a tier, no wait twice.
    assert len({row[:4] for row in twice["activity"]}) == len(twice["activity"])
    assert len({row[:2] for row in twice["demand"]}) == len(twice["demand"])
    assert len({(row[0], row[2]) for row in twice["waits"]}) == len(twice["waits"])
    assert twice == _from_nothing()
    assert selectors._activity_from_rollup(RANGE) == selectors._activity_live(RANGE)
    assert sorted(selectors._demand_from_rollup(RANGE)) == sorted(selectors._demand_live(RANGE))
    assert selectors.response_times(RANGE) == selectors._response_times_live(RANGE)


def _waiting_on_advisory_lock() -> int:
    """Backends of this database (other than ours) waiting for an advisory lock."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND wait_event_type = 'Lock' AND wait_event = 'advisory'"
        )
        (count,) = cursor.fetchone()
    return int(count)


REFRESHES: dict[str, Callable[[], object]] = {
    "activity month": lambda: rollups.activity_month_rebuild(first=JANUARY),
    "demand": lambda: rollups.idea_demand_rebuild(),
    "boards' ideas and demand, incremental": lambda: rollups.idea_rollups_refresh(),
    "response waits, from nothing": lambda: rollups.response_waits_refresh(whole=True),
    "response waits, incremental": lambda: rollups.response_waits_refresh(),
}


def _hold_the_first_lock(monkeypatch: pytest.MonkeyPatch) -> tuple[threading.Event, threading.Event]:
    """From now on, the first refresh that takes a roll-up lock holds it (inside its transaction) until
    released: returns ``(held, release)``."""
    held, release = threading.Event(), threading.Event()
    real_lock = rollups._rebuild_lock
    first = threading.Lock()

    def lock_then_hold(name: str) -> None:
        real_lock(name)
        if first.acquire(blocking=False):  # only the first caller holds on
            held.set()
            assert release.wait(timeout=30), "the test never released the first refresh"

    monkeypatch.setattr(rollups, "_rebuild_lock", lock_then_hold)
    return held, release


@pytest.mark.skipif(
    not settings.IS_POSTGRES,
    reason="two refreshes at once need two connections writing together, which only PostgreSQL allows (SQLite "
    "has one writer); CI runs this in its PostgreSQL pass",
)
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("name", list(REFRESHES))
def test_a_second_refresh_waits_for_the_first_and_the_rows_are_those_of_one_refresh(
    world: World, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    refresh = REFRESHES[name]
    # Start from built roll-ups, as the scheduled task does (the incremental waits refresh needs a watermark).
    rollups.rollups_refresh(RANGE.months())
    held, release = _hold_the_first_lock(monkeypatch)
    errors: list[BaseException] = []
    finished: list[str] = []

    def run(label: str) -> None:
        try:
            refresh()
            finished.append(label)
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    first = threading.Thread(target=run, args=("first",))
    second = threading.Thread(target=run, args=("second",))
    first.start()
    try:
        assert held.wait(timeout=30), "the first refresh never took its lock"
        second.start()
        # The second refresh blocks on the advisory lock while the first holds it inside its transaction.
        deadline = time.monotonic() + 30
        while not _waiting_on_advisory_lock() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _waiting_on_advisory_lock() == 1
        assert finished == []
    finally:
        release.set()
        first.join(timeout=60)
        if second.ident is not None:
            second.join(timeout=60)

    assert errors == []
    assert finished == ["first", "second"]  # it waited, then ran: nothing is skipped
    together = _all_rows()
    assert len({row[:4] for row in together["activity"]}) == len(together["activity"])
    assert len({row[:2] for row in together["demand"]}) == len(together["demand"])
    assert together == _from_nothing()
    assert selectors._activity_from_rollup(RANGE) == selectors._activity_live(RANGE)
    assert sorted(selectors._demand_from_rollup(RANGE)) == sorted(selectors._demand_live(RANGE))
    assert selectors.response_times(RANGE) == selectors._response_times_live(RANGE)
