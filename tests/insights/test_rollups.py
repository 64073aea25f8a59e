"""The roll-ups behind participation and demand: the same numbers as the source tables, rebuilt on schedule."""

from __future__ import annotations

import dataclasses
import datetime

from cocreate.insights import rollups, selectors
from cocreate.insights.selectors import InsightFilters
from cocreate.models import ActivityMonth, BoardIdea, Organisation, RollupRefresh
from ideas.models import Idea, Support
from tests.boards.factories import MembershipFactory
from tests.insights.conftest import RANGE, World, _idea, _support, at


def only(filters: InsightFilters, **changes: object) -> InsightFilters:
    return dataclasses.replace(filters, **changes)


def test_the_rollups_give_the_numbers_the_source_tables_give(world: World) -> None:
    for filters in (
        RANGE,
        only(RANGE, tier="gold"),
        only(RANGE, campaign_id=world.campaign_a.pk),
        only(RANGE, campaign_id=world.campaign_b.pk, tier="silver"),
        only(RANGE, start=datetime.date(2025, 12, 1)),
        only(RANGE, board_id=world.board_x.pk),
        only(RANGE, board_id=world.board_y.pk),
        only(RANGE, board_id=world.board_x.pk, tier="bronze"),
        only(RANGE, board_id=world.board_y.pk, campaign_id=world.campaign_a.pk),
        only(RANGE, board_id=world.board_x.pk, campaign_id=world.campaign_b.pk, tier="silver"),
    ):
        assert selectors.rollups_cover(filters)
        assert selectors._activity_from_rollup(filters) == selectors._activity_live(filters), filters
        assert sorted(selectors._demand_from_rollup(filters)) == sorted(selectors._demand_live(filters)), filters


def test_only_whole_months_are_read_from_the_rollups(world: World) -> None:
    today = datetime.date(2026, 3, 20)
    assert selectors.rollups_cover(RANGE, today=today)
    assert selectors.rollups_cover(only(RANGE, end=datetime.date(2026, 3, 25)), today=today)  # up to today
    assert not selectors.rollups_cover(only(RANGE, end=datetime.date(2026, 3, 10)), today=today)
    assert not selectors.rollups_cover(only(RANGE, start=datetime.date(2026, 1, 2)), today=today)
    assert selectors.rollups_cover(only(RANGE, board_id=world.board_x.pk), today=today)
    # A range cut mid-month is counted from the source tables. 1 to 15 January: g1 submitted i1 (their own
    # support does not count), s1 submitted i2 and supported i1.
    cut = selectors.participation(only(RANGE, end=datetime.date(2026, 1, 15)))
    assert [(r["tier"], r["active_members"], r["supports"], r["comments"]) for r in cut] == [
        ("gold", 1, 0, 0),
        ("silver", 1, 1, 0),
        ("bronze", 0, 0, 0),
    ]
    assert not ActivityMonth.objects.exists()


def test_part_months_come_from_the_source_rows_of_those_days_and_whole_months_from_the_rollups(world: World) -> None:
    cut = only(RANGE, start=datetime.date(2026, 1, 16), end=datetime.date(2026, 3, 10))
    whole, edges = selectors._activity_spans(cut, today=datetime.date(2026, 11, 1))
    assert whole == only(RANGE, start=datetime.date(2026, 2, 1), end=datetime.date(2026, 2, 28))
    assert edges == [
        only(RANGE, start=datetime.date(2026, 1, 16), end=datetime.date(2026, 1, 31)),
        only(RANGE, start=datetime.date(2026, 3, 1), end=datetime.date(2026, 3, 10)),
    ]
    rows = [
        (r["month"], r["tier"], r["active_members"], r["supports"], r["comments"]) for r in selectors.participation(cut)
    ]
    assert rows == [
        # 16 to 31 January: g2 supported i1, g1 and b1 commented (s1's support on the 15th is outside).
        ("2026-01", "gold", 2, 1, 1),
        ("2026-01", "silver", 0, 0, 0),
        ("2026-01", "bronze", 1, 0, 1),
        # February whole, from the roll-up.
        ("2026-02", "gold", 1, 1, 0),
        ("2026-02", "silver", 1, 0, 0),
        ("2026-02", "bronze", 1, 1, 0),
        # 1 to 10 March: g1 supported i4 and submitted i5; s1 commented on the 10th; session t is on the 20th.
        ("2026-03", "gold", 1, 1, 0),
        ("2026-03", "silver", 1, 0, 1),
        ("2026-03", "bronze", 0, 0, 0),
    ]
    assert list(ActivityMonth.objects.values_list("month", flat=True).distinct()) == [datetime.date(2026, 2, 1)]
    for filters in (cut, only(cut, tier="silver"), only(cut, campaign_id=world.campaign_b.pk)):
        assert selectors._activity(filters) == selectors._activity_live(filters), filters
    # Within one month, and from the first of a month to a day inside it: one part, no roll-up.
    assert selectors._activity_spans(only(cut, end=datetime.date(2026, 1, 20)), today=datetime.date(2026, 11, 1)) == (
        None,
        [only(cut, end=datetime.date(2026, 1, 20))],
    )
    assert selectors._activity_spans(only(RANGE, end=datetime.date(2026, 1, 20)), today=datetime.date(2026, 11, 1)) == (
        None,
        [only(RANGE, end=datetime.date(2026, 1, 20))],
    )


def test_a_month_rolled_up_again_picks_up_a_withdrawn_support(world: World) -> None:
    january = {(r["month"], r["tier"]): r for r in selectors.participation(RANGE)}[("2026-01", "silver")]
    assert (january["active_members"], january["supports"]) == (1, 1)  # s1: idea i2 and a support on i1
    Support.objects.filter(idea=world.ideas["i1"], user=world.s1).delete()
    rollups.activity_months_ensure(["2026-01"], max_age=datetime.timedelta(0))
    january = {(r["month"], r["tier"]): r for r in selectors.participation(RANGE)}[("2026-01", "silver")]
    assert (january["active_members"], january["supports"]) == (1, 0)


def test_the_refresh_checks_recent_months_every_run_and_settled_ones_daily_and_rebuilds_those_that_changed(
    world: World,
) -> None:
    months = RANGE.months()
    first_run = at("2026-03-20 10:00")

    def built() -> dict[str, datetime.datetime]:
        rows = RollupRefresh.objects.filter(name=rollups.ACTIVITY).values_list("month", "refreshed_at")
        return {f"{month:%Y-%m}": when for month, when in rows}

    assert rollups.rollups_refresh(months, now=first_run)["activity_months"] == months
    assert built() == dict.fromkeys(months, first_run)
    # Nothing changed: nothing rebuilt.
    later = first_run + datetime.timedelta(minutes=20)
    assert rollups.rollups_refresh(months, now=later)["activity_months"] == []
    # Supports withdrawn in January (settled) and March (in progress): March is rebuilt at once.
    Support.objects.filter(idea=world.ideas["i1"], user=world.s1).delete()
    Support.objects.filter(idea=world.ideas["i4"], user=world.g1).delete()
    again = later + datetime.timedelta(minutes=15)
    assert rollups.rollups_refresh(months, now=again)["activity_months"] == ["2026-03"]
    # A tier changed: February and March (the month before and the month in progress) take it at once.
    Organisation.objects.filter(pk=world.silver.pk).update(tier="gold")
    third = again + datetime.timedelta(minutes=15)
    assert rollups.rollups_refresh(months, now=third)["activity_months"] == ["2026-02", "2026-03"]
    assert ActivityMonth.objects.get(user=world.s1, month=datetime.date(2026, 2, 1)).tier == "gold"
    january = ActivityMonth.objects.filter(user=world.s1, month=datetime.date(2026, 1, 1))
    assert list(january.values_list("tier", "supports")) == [("silver", 1)]  # i2 and the support of i1 (campaign A)
    # A day after its last check, January is checked: both changes reach it.
    next_day = first_run + datetime.timedelta(hours=25)
    assert rollups.rollups_refresh(months, now=next_day)["activity_months"] == ["2026-01"]
    assert list(january.values_list("tier", "supports")) == [("gold", 0)]
    assert built() == {"2026-01": next_day, "2026-02": next_day, "2026-03": next_day}
    # Checked again a day later with nothing changed: marked current, not rebuilt.
    two_days = next_day + datetime.timedelta(hours=25)
    assert rollups.rollups_refresh(months, now=two_days)["activity_months"] == []
    assert built() == dict.fromkeys(months, two_days)
    # One row per person, month and campaign (0 for joining a session): s1 in February joined session s only.
    assert list(
        ActivityMonth.objects.filter(user=world.s1, month=datetime.date(2026, 2, 1)).values_list(
            "tier", "campaign_id", "ideas", "supports", "comments", "sessions"
        )
    ) == [("gold", 0, 0, 0, 0, 1)]


def test_demand_for_a_board_counts_the_ideas_its_members_organisations_created_or_supported(world: World) -> None:
    # An idea gathering support that b1 (bronze) submitted and only s1 (silver) supports: Board X has members of
    # both organisations, Board Y only g2 (gold).
    i7 = _idea(
        world.campaign_b,
        world.b1,
        "2026-03-25 10:00",
        status=Idea.Status.PUBLISHED,
        published_at=at("2026-03-25 10:00"),
    )
    _support(i7, world.s1, "2026-03-26 10:00")
    i4, i5, i6 = (world.ideas[name].pk for name in ("i4", "i5", "i6"))
    board_y = selectors.demand(only(RANGE, board_id=world.board_y.pk))
    # The active ideas gold people created or supported: i4 (gold 1,000,000.00), i5 (bronze and silver
    # 750,000.75), i6 (gold and silver 1,500,000.50); the rest are closed.
    assert [(r["idea_id"], r["accounts"]) for r in board_y["by_accounts"]] == [(i5, 2), (i6, 2), (i4, 1)]
    assert [(r["idea_id"], r["revenue"]) for r in board_y["by_revenue"]] == [
        (i6, "1500000.50"),
        (i4, "1000000.00"),
        (i5, "750000.75"),
    ]
    board_x = selectors.demand(only(RANGE, board_id=world.board_x.pk))
    assert [(r["idea_id"], r["accounts"]) for r in board_x["by_accounts"]] == [(i5, 2), (i6, 2), (i4, 1), (i7.pk, 1)]
    for filters in (only(RANGE, board_id=world.board_x.pk), only(RANGE, board_id=world.board_y.pk, tier="silver")):
        assert sorted(selectors._demand_from_rollup(filters)) == sorted(selectors._demand_live(filters)), filters


def test_a_board_member_added_is_counted_once_the_refresh_rebuilds_the_boards_ideas_and_the_month(
    world: World,
) -> None:
    # s1 (silver) supports i3, which b1 (bronze) submitted: not an idea of Board Y (gold) until b1 joins it.
    _support(world.ideas["i3"], world.s1, "2026-02-04 10:00")
    board_y = only(RANGE, board_id=world.board_y.pk)
    now = at("2026-04-01 10:00")
    rollups.rollups_refresh(RANGE.months(), now=now)
    assert ("2026-02", "silver") not in selectors._activity(board_y)
    MembershipFactory(board=world.board_y, user=world.b1)
    later = now + datetime.timedelta(minutes=15)
    rollups.rollups_refresh(RANGE.months(), now=later)
    assert BoardIdea.objects.filter(board_id=world.board_y.pk, idea=world.ideas["i3"]).exists()
    # The refresh rebuilt the board's ideas and the recent month (March); February, settled, is rebuilt daily.
    assert ("2026-02", "silver") not in selectors._activity(board_y)
    rollups.rollups_refresh(RANGE.months(), now=now + datetime.timedelta(hours=25))
    assert selectors._activity(board_y)[("2026-02", "silver")] == (1, 1, 0)
    assert selectors._activity_from_rollup(board_y) == selectors._activity_live(board_y)
