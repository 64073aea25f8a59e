"""The response-time figures read ``ResponseWait``: the same medians and p90s as the ideas and their status
history give, for any range and filter, kept up to date by an incremental refresh."""

from __future__ import annotations

import dataclasses
import datetime

from cocreate.insights import rollups, selectors
from cocreate.insights.selectors import InsightFilters
from cocreate.models import ResponseWait, RollupRefresh
from ideas.models import Idea, StatusChange
from tests.insights.conftest import RANGE, World, _idea, at


def only(filters: InsightFilters, **changes: object) -> InsightFilters:
    return dataclasses.replace(filters, **changes)


def test_the_median_and_p90_of_first_responses_are_the_ones_the_source_tables_give(world: World) -> None:
    # Six ideas published in April, answered after 1, 2, 4, 8 and 16 hours; the last one still waits.
    for day, hours in enumerate([1, 2, 4, 8, 16, None], start=1):
        published = at(f"2026-04-0{day} 10:00")
        answered = published + datetime.timedelta(hours=hours) if hours else None
        _idea(
            world.campaign_b, world.s1, f"2026-04-0{day} 09:00", status=Idea.Status.PUBLISHED,
            published_at=published, first_official_response_at=answered,
        )  # fmt: skip
    april = only(RANGE, start=datetime.date(2026, 4, 1), end=datetime.date(2026, 4, 30))
    # Five waits ranked 0 to 4: the median is rank 2 (4 h); the p90 is at 0.9 x 4 = 3.6, between 8 h and 16 h:
    # 8 + 0.6 x 8 = 12.8 h.
    assert selectors.response_times(april)["first_response"] == [
        {"month": "2026-04", "count": 5, "waiting": 1, "median_hours": 4.0, "p90_hours": 12.8}
    ]
    assert selectors.response_times(april) == selectors._response_times_live(april)
    assert ResponseWait.objects.filter(kind=ResponseWait.Kind.RESPONSE, seconds__isnull=True).count() == 3  # i4, i6 too


def test_part_months_and_every_filter_give_the_numbers_of_the_source_tables(world: World) -> None:
    three_days = only(RANGE, start=datetime.date(2026, 3, 3), end=datetime.date(2026, 3, 5))
    # 3 to 5 March: i5 waited 10 h for "needs work" and 4 h after resubmitting (median 7, p90 4 + 0.9 x 6);
    # it was published on the 5th and answered 2 h later.
    assert selectors.response_times(three_days) == {
        "first_response": [{"month": "2026-03", "count": 1, "waiting": 0, "median_hours": 2.0, "p90_hours": 2.0}],
        "moderation": [{"month": "2026-03", "count": 2, "waiting": 0, "median_hours": 7.0, "p90_hours": 9.4}],
    }
    for filters in (
        RANGE,
        three_days,
        only(RANGE, start=datetime.date(2026, 1, 8), end=datetime.date(2026, 3, 4)),
        only(RANGE, tier="gold"),
        only(RANGE, campaign_id=world.campaign_a.pk),
        only(RANGE, board_id=world.board_y.pk),
        only(RANGE, board_id=world.board_x.pk, tier="bronze"),
        only(RANGE, start=datetime.date(2026, 4, 1), end=datetime.date(2026, 4, 30)),
    ):
        assert selectors.response_times(filters) == selectors._response_times_live(filters), filters


def test_the_refresh_rewrites_only_the_ideas_changed_since_the_previous_one(world: World) -> None:
    # The world's ideas were saved just now; as far as the refresh can tell, they last changed in March.
    Idea.objects.update(updated_at=at("2026-03-31 00:00"))
    first = rollups.response_waits_refresh(now=at("2026-04-01 00:00"))
    # From nothing: five published ideas (i3 was rejected) and six moderation decisions by a person.
    assert first == {"whole": True, "ideas": 0, "rows": 11}
    before = dict(ResponseWait.objects.values_list("ref", "pk").filter(kind=ResponseWait.Kind.MODERATION))

    i4, i3 = world.ideas["i4"], world.ideas["i3"]
    Idea.objects.filter(pk=i4.pk).update(first_official_response_at=at("2026-04-01 00:05"))
    StatusChange.objects.filter(idea=i3).delete()  # history lost: only a rebuild from nothing notices
    second = rollups.response_waits_refresh(now=at("2026-04-01 00:15"))
    assert second == {"whole": False, "ideas": 1, "rows": 1}  # i4's response wait, nothing else
    # i4 was published on 14 February at noon and answered 348 + 744 hours and 5 minutes later (SQLite's
    # julianday arithmetic is exact to the millisecond).
    seconds = ResponseWait.objects.get(kind=ResponseWait.Kind.RESPONSE, idea=i4).seconds
    assert seconds is not None
    assert round(seconds, 3) == 1092 * 3600 + 300
    assert dict(ResponseWait.objects.values_list("ref", "pk").filter(kind=ResponseWait.Kind.MODERATION)) == before

    # Run again with nothing new: the same rows (i4 is still within the overlap, and rewritten the same).
    again = rollups.response_waits_refresh(now=at("2026-04-01 00:16"))
    assert again == {"whole": False, "ideas": 1, "rows": 1}
    assert ResponseWait.objects.count() == 11
    feb = only(RANGE, start=datetime.date(2026, 2, 1), end=datetime.date(2026, 2, 28))
    assert selectors.response_times(feb)["first_response"][0]["count"] == 1

    # A day after the last rebuild from nothing, the refresh rebuilds everything: i3's decision is gone.
    daily = rollups.response_waits_refresh(now=at("2026-04-02 00:01"))
    assert daily == {"whole": True, "ideas": 0, "rows": 10}
    assert not ResponseWait.objects.filter(idea=i3).exists()
    assert selectors.response_times(RANGE) == selectors._response_times_live(RANGE)
    assert set(RollupRefresh.objects.filter(name__startswith="response_wait").values_list("name", flat=True)) == {
        rollups.WAITS,
        rollups.WAITS_WHOLE,
    }


def test_the_scheduled_refresh_brings_the_response_waits_up_to_date(world: World) -> None:
    result = rollups.rollups_refresh(RANGE.months())
    assert result["response_waits"]["whole"] is True
    assert rollups.rollups_refresh(RANGE.months())["response_waits"]["whole"] is False
