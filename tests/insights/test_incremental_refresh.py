"""The scheduled refresh rewrites only what changed since its previous run, and leaves exactly the rows a rebuild
from nothing leaves on the same data, after rows were added, changed and deleted."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from cocreate.insights import rollups, selectors
from cocreate.models import (
    ActivityMonth,
    BoardActivityMonth,
    BoardIdea,
    IdeaDemand,
    IdeaDigest,
    ResponseWait,
    RollupRefresh,
    SessionPresence,
)
from ideas.models import Comment, Idea, Support
from tests.boards.factories import MembershipFactory
from tests.insights.conftest import RANGE, World, _idea, _support, at

# April 2026: March is the month before, so January and February are settled.
FIRST_RUN = at("2026-04-01 10:00")


def _rows() -> dict[str, list[tuple[Any, ...]]]:
    activity = ("month", "user_id", "tier", "campaign_id", "ideas", "supports", "comments", "sessions")
    return {
        "activity": sorted(ActivityMonth.objects.values_list(*activity)),
        "board activity": sorted(BoardActivityMonth.objects.values_list("board_id", *activity)),
        "board ideas": sorted(BoardIdea.objects.values_list("board_id", "idea_id")),
        "demand": sorted(IdeaDemand.objects.values_list("idea_id", "tier", "accounts", "revenue_cents")),
    }


def _rebuilt_from_nothing() -> dict[str, list[tuple[Any, ...]]]:
    for model in (ActivityMonth, BoardActivityMonth, BoardIdea, IdeaDemand, IdeaDigest, RollupRefresh):
        model.objects.all().delete()
    rollups.board_ideas_rebuild()
    for month in RANGE.months():
        rollups.activity_month_rebuild(first=rollups.month_start(month))
    rollups.idea_demand_rebuild()
    return _rows()


@pytest.fixture
def refreshed(world: World) -> Idea:
    """The world, plus i8 (submitted by b1 in December, supported by s1), refreshed once on 1 April."""
    i8 = _idea(
        world.campaign_b,
        world.b1,
        "2025-12-10 10:00",
        status=Idea.Status.PUBLISHED,
        published_at=at("2025-12-10 12:00"),
    )
    _support(i8, world.s1, "2025-12-11 10:00")
    first = rollups.rollups_refresh(RANGE.months(), now=FIRST_RUN)
    assert first["ideas"] == {"whole": True, "ideas": 0}
    assert first["activity_months"] == RANGE.months()
    return i8


def test_an_incremental_refresh_after_inserts_updates_and_deletes_equals_a_rebuild_from_nothing(
    world: World, refreshed: Idea
) -> None:
    i1, i2, i4, i5, i6 = (world.ideas[name] for name in ("i1", "i2", "i4", "i5", "i6"))
    # Inserts: an idea g2 submitted in March and s1 supports; b1's support of i6 in January (settled); g1 joins
    # session t in March.
    i7 = _idea(
        world.campaign_b,
        world.g2,
        "2026-03-25 10:00",
        status=Idea.Status.PUBLISHED,
        published_at=at("2026-03-25 12:00"),
    )
    _support(i7, world.s1, "2026-03-26 10:00")
    _support(i6, world.b1, "2026-01-25 10:00")
    SessionPresence.objects.create(
        session=world.session_t,
        user=world.g1,
        first_joined_at=at("2026-03-20 09:30"),
        last_seen_at=at("2026-03-20 10:00"),
    )
    # Updates: s1's support of i1 (January) no longer counts; g1's January comment becomes an official response;
    # i5 is archived.
    Support.objects.filter(idea=i1, user=world.s1).update(counts=False)
    Comment.objects.filter(idea=i2, author=world.g1).update(kind=Comment.Kind.OFFICIAL)
    Idea.objects.filter(pk=i5.pk).update(status=Idea.Status.ARCHIVED)
    # Deletes: g1 withdraws from i4 (March), b1's January comment, and idea i8 with its support.
    Support.objects.filter(idea=i4, user=world.g1).delete()
    Comment.objects.filter(idea=i1, author=world.b1).delete()
    refreshed.delete()

    result = rollups.rollups_refresh(RANGE.months(), now=FIRST_RUN + datetime.timedelta(minutes=15))

    # Rewritten at once: the ideas whose supports or status changed (i1, i4, i5, i6) and the new i7 (deleting i8
    # through the ORM deleted its roll-up rows too), and March, the month before (its own rows changed). January
    # and February, settled, are checked once a day.
    assert result["ideas"] == {"whole": False, "ideas": 5}
    assert result["activity_months"] == ["2026-03"]
    # Demand, worked by hand: i6 has gold (1,000,000.00), silver (500,000.50) and bronze (250,000.25) behind it,
    # i7 silver; i4 has no support left and i5 is closed.
    assert sorted(selectors._demand_from_rollup(RANGE)) == [(i6.pk, 3, 175000075, 1, 1), (i7.pk, 1, 50000050, 2, 2)]
    assert BoardIdea.objects.filter(idea=i7).count() == 2  # Board X (every tier) and Board Y (gold: g2)
    assert not BoardIdea.objects.filter(idea_id=refreshed.pk).exists()
    incremental = _rows()

    # A day later, the settled months are checked: January changed, February reads the boards' ideas and which
    # supports count, which changed; March is current.
    daily = rollups.rollups_refresh(RANGE.months(), now=FIRST_RUN + datetime.timedelta(hours=25))
    assert daily["ideas"] == {"whole": False, "ideas": 0}
    assert daily["activity_months"] == ["2026-01", "2026-02"]
    # January, worked by hand: g1 submitted i1 and g2 supported it (gold: 2 people, 1 support); s1 submitted i2
    # (its support of i1 no longer counts); b1 supported i6; no comment is left.
    activity = selectors._activity(RANGE)
    assert {tier: activity[("2026-01", tier)] for tier in ("gold", "silver", "bronze")} == {
        "gold": (2, 1, 0),
        "silver": (1, 0, 0),
        "bronze": (1, 1, 0),
    }
    after_a_day = _rows()

    from_nothing = _rebuilt_from_nothing()
    assert after_a_day == from_nothing
    # After the first run, everything but the settled month whose own rows changed was already so.
    january = datetime.date(2026, 1, 1)
    for name in ("activity", "board activity"):
        month = 0 if name == "activity" else 1
        for rows in (incremental, from_nothing):
            rows[name] = [row for row in rows[name] if row[month] != january]
    assert incremental == from_nothing
    for filters in (RANGE, RANGE.__class__(start=RANGE.start, end=RANGE.end, board_id=world.board_y.pk)):
        assert selectors._activity_from_rollup(filters) == selectors._activity_live(filters), filters
        assert sorted(selectors._demand_from_rollup(filters)) == sorted(selectors._demand_live(filters)), filters


def test_a_refresh_with_nothing_changed_rewrites_nothing(world: World, refreshed: Idea) -> None:
    before = _rows()
    digests = sorted(IdeaDigest.objects.values_list("idea_id", "status", "supports", "support_ids"))
    result = rollups.rollups_refresh(RANGE.months(), now=FIRST_RUN + datetime.timedelta(minutes=15))
    assert result["ideas"] == {"whole": False, "ideas": 0}
    assert result["activity_months"] == []
    assert _rows() == before
    assert sorted(IdeaDigest.objects.values_list("idea_id", "status", "supports", "support_ids")) == digests


def test_the_boards_ideas_and_demand_are_rebuilt_whole_when_what_every_row_reads_changed(
    world: World, refreshed: Idea, monkeypatch: pytest.MonkeyPatch
) -> None:
    later = FIRST_RUN + datetime.timedelta(minutes=15)
    # A new board member: every idea's board rows may change.
    MembershipFactory(board=world.board_y, user=world.b1)
    assert rollups.idea_rollups_refresh(now=later)["whole"] is True
    assert BoardIdea.objects.filter(board_id=world.board_y.pk, idea=world.ideas["i3"]).exists()  # b1's idea
    # A revenue changed: every demand row of that organisation's ideas.
    world.gold.annual_revenue = world.gold.annual_revenue + 1
    world.gold.save(update_fields=["annual_revenue"])
    assert rollups.idea_rollups_refresh(now=later)["whole"] is True
    # More changed ideas than the limit: one rebuild rather than many small rewrites.
    monkeypatch.setattr(rollups, "IDEAS_MAX_CHANGED", 1)
    Support.objects.filter(idea__in=[world.ideas["i5"], world.ideas["i6"]], user=world.s1).delete()
    assert rollups.idea_rollups_refresh(now=later) == {"whole": True, "ideas": 0}
    ideas_rows = {name: rows for name, rows in _rows().items() if name in ("board ideas", "demand")}
    rebuilt = _rebuilt_from_nothing()
    assert ideas_rows == {"board ideas": rebuilt["board ideas"], "demand": rebuilt["demand"]}


def _analysed(model: type[Any]) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM pg_stats WHERE tablename = %s", [model._meta.db_table])
        (columns,) = cursor.fetchone()
    return bool(columns)


@pytest.mark.skipif(not settings.IS_POSTGRES, reason="planner statistics are PostgreSQL's; CI runs this there")
def test_the_tables_rebuilt_whole_are_analysed_for_the_planner(world: World) -> None:
    tables = (ActivityMonth, BoardActivityMonth, BoardIdea, IdeaDemand, IdeaDigest, ResponseWait)
    assert not any(_analysed(model) for model in tables)
    rollups.rollups_refresh(RANGE.months(), now=FIRST_RUN)
    assert all(_analysed(model) for model in tables)
