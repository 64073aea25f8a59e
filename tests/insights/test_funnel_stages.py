"""The funnel reads ``IdeaStage`` (when each idea reached each stage): the same counts as the ideas and their
status history give, for any range and filter, and kept up to date by the response waits' refresh."""

from __future__ import annotations

import dataclasses
import datetime

from cocreate.insights import rollups, selectors
from cocreate.insights.selectors import InsightFilters
from cocreate.models import IdeaStage
from ideas.models import Idea, StatusChange
from tests.insights.conftest import RANGE, World, at


def only(filters: InsightFilters, **changes: object) -> InsightFilters:
    return dataclasses.replace(filters, **changes)


def test_the_funnel_from_the_stages_is_the_funnel_of_the_source_tables(world: World) -> None:
    for filters in (
        RANGE,
        only(RANGE, start=datetime.date(2025, 12, 1)),
        only(RANGE, end=datetime.date(2026, 1, 31)),  # i1 reached review but not approval by then
        only(RANGE, start=datetime.date(2026, 1, 6), end=datetime.date(2026, 2, 9)),
        only(RANGE, tier="gold"),
        only(RANGE, campaign_id=world.campaign_a.pk),
        only(RANGE, board_id=world.board_y.pk),
        only(RANGE, board_id=world.board_x.pk, tier="bronze"),
    ):
        assert selectors.idea_funnel(filters) == selectors._idea_funnel_live(filters), filters


def test_each_idea_reached_each_stage_at_the_earliest_moment_its_history_or_fields_show(world: World) -> None:
    rollups.response_waits_refresh(now=at("2026-04-01 00:00"))
    i1, i2, i4 = (IdeaStage.objects.get(idea=world.ideas[name]) for name in ("i1", "i2", "i4"))
    # i1: published 6 January, first milestone 15 January, in review 20 January, approved 10 February,
    # commercialised 15 March (its history), each before its status was last saved.
    assert (i1.published_at, i1.milestone_at, i1.in_review_at, i1.approved_at, i1.commercialised_at) == (
        at("2026-01-06 10:00"),
        at("2026-01-15 00:00"),
        at("2026-01-20 00:00"),
        at("2026-02-10 00:00"),
        at("2026-03-15 00:00"),
    )
    # i2 was archived while in review: review reached on 1 February, never approved.
    assert (i2.in_review_at, i2.approved_at, i2.commercialised_at) == (at("2026-02-01 00:00"), None, None)
    # i4 is published with one milestone.
    assert (i4.published_at, i4.milestone_at, i4.in_review_at) == (at("2026-02-14 12:00"), at("2026-02-20 12:00"), None)
    assert not IdeaStage.objects.filter(idea=world.ideas["i3"], published_at__isnull=False).exists()  # rejected


def test_an_idea_moved_on_is_counted_further_after_the_next_refresh(world: World) -> None:
    Idea.objects.update(updated_at=at("2026-03-31 00:00"))
    rollups.response_waits_refresh(now=at("2026-04-01 00:00"))
    (before,) = selectors.idea_funnel(RANGE)["total"]
    assert (before["in_review"], before["approved"]) == (2, 1)  # i1 and i2 reached review, i1 approval
    i4 = world.ideas["i4"]
    change = StatusChange.objects.create(
        idea=i4, from_status=Idea.Status.PUBLISHED, to_status=Idea.Status.IN_REVIEW, actor=None
    )
    StatusChange.objects.filter(pk=change.pk).update(created_at=at("2026-03-25 00:00"))
    Idea.objects.filter(pk=i4.pk).update(status=Idea.Status.IN_REVIEW, updated_at=at("2026-04-01 00:10"))
    assert selectors.idea_funnel(RANGE)["total"] == [before]  # not refreshed yet
    assert rollups.response_waits_refresh(now=at("2026-04-01 00:15"))["stages"] == 1
    (after,) = selectors.idea_funnel(RANGE)["total"]
    assert (after["in_review"], after["approved"]) == (3, 1)
    assert selectors.idea_funnel(RANGE) == selectors._idea_funnel_live(RANGE)
