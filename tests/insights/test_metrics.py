"""Every metric on the hand-made world of conftest.py, against numbers worked out by hand in the comments."""

from __future__ import annotations

import dataclasses
import datetime

import pytest

from boards import services as boards_services
from cocreate.insights import presence, selectors
from cocreate.insights.selectors import InsightFilters
from cocreate.models import SessionPresence
from tests.insights.conftest import RANGE, World, at

EMPTY = InsightFilters(start=datetime.date(2024, 1, 1), end=datetime.date(2024, 2, 29))


def only(filters: InsightFilters, **changes: object) -> InsightFilters:
    return dataclasses.replace(filters, **changes)


def test_the_funnel_counts_each_stage_reached_per_campaign_with_conversion_rates(world: World) -> None:
    funnel = selectors.idea_funnel(RANGE)
    a, b = funnel["by_campaign"]
    # A: i1 (commercialised), i2 (archived after review), i3 (rejected); i6 was submitted in December.
    assert (a["campaign"], a["submitted"], a["published"], a["milestone"]) == ("Campaign A", 3, 2, 2)
    assert (a["in_review"], a["approved"], a["commercialised"]) == (2, 1, 1)
    assert (a["published_rate"], a["in_review_rate"], a["approved_rate"], a["overall_rate"]) == (
        66.7,
        100.0,
        50.0,
        33.3,
    )
    # B: i4 (one milestone), i5 (published after needing work).
    assert [b[s] for s in selectors.FUNNEL_STAGES] == [2, 2, 1, 0, 0, 0]
    assert (b["milestone_rate"], b["in_review_rate"], b["approved_rate"]) == (50.0, 0.0, None)
    (total,) = funnel["total"]
    assert [total[s] for s in selectors.FUNNEL_STAGES] == [5, 4, 3, 2, 1, 1]
    # 4/5, 3/4, 2/3, 1/2, 1/1 and 1/5 overall.
    assert [total[f"{s}_rate"] for s in selectors.FUNNEL_STAGES[1:]] == [80.0, 75.0, 66.7, 50.0, 100.0]
    assert total["overall_rate"] == 20.0


def test_the_funnel_per_month_of_submission_skips_months_without_ideas(world: World) -> None:
    months = {
        row["month"]: [row[s] for s in selectors.FUNNEL_STAGES] for row in selectors.idea_funnel(RANGE)["by_month"]
    }
    assert months == {"2026-01": [2, 2, 2, 2, 1, 1], "2026-02": [2, 1, 1, 0, 0, 0], "2026-03": [1, 1, 0, 0, 0, 0]}


def test_the_funnel_follows_the_campaign_and_tier_filters(world: World) -> None:
    (total,) = selectors.idea_funnel(only(RANGE, campaign_id=world.campaign_b.pk))["total"]
    assert total["submitted"] == 2
    (gold,) = selectors.idea_funnel(only(RANGE, tier="gold"))["total"]
    # Gold creators: i1 (g1), i4 (g2), i5 (g1).
    assert [gold[s] for s in selectors.FUNNEL_STAGES] == [3, 3, 2, 1, 1, 1]


def test_the_funnel_counts_only_the_stages_reached_by_the_end_of_the_range(world: World) -> None:
    # Up to 15 February: i1 reached its milestone on 15 January and review on 20 January, approval on 10
    # February; i2 its milestone on 25 January and review only on 1 February; i4 (submitted 14 February) reaches
    # its milestone on 20 February, after the range. i3 was rejected, i5 not yet submitted.
    funnel = selectors.idea_funnel(only(RANGE, end=datetime.date(2026, 2, 15)))
    (total,) = funnel["total"]
    assert [total[s] for s in selectors.FUNNEL_STAGES] == [4, 3, 2, 2, 1, 0]
    months = {row["month"]: [row[s] for s in selectors.FUNNEL_STAGES] for row in funnel["by_month"]}
    assert months == {"2026-01": [2, 2, 2, 2, 1, 0], "2026-02": [2, 1, 0, 0, 0, 0]}
    # Up to 31 January: i2 had passed its milestone but was not yet in review.
    (january,) = selectors.idea_funnel(only(RANGE, end=datetime.date(2026, 1, 31)))["total"]
    assert [january[s] for s in selectors.FUNNEL_STAGES] == [2, 2, 2, 1, 0, 0]


def test_the_board_filter_keeps_the_ideas_of_its_members_organisations(world: World) -> None:
    # Board Y has one member, g2 (gold): its ideas are those created or supported by gold people, i.e. all but
    # i3 (created by b1, supported by nobody).
    board_y = only(RANGE, board_id=world.board_y.pk)
    (total,) = selectors.idea_funnel(board_y)["total"]
    assert [total[s] for s in selectors.FUNNEL_STAGES] == [4, 4, 3, 2, 1, 1]
    moderation = selectors.response_times(board_y)["moderation"]
    assert [(r["month"], r["count"]) for r in moderation] == [("2026-01", 2), ("2026-03", 2)]
    # Board X has a member in every organisation: every idea counts.
    (board_x,) = selectors.idea_funnel(only(RANGE, board_id=world.board_x.pk))["total"]
    assert board_x["submitted"] == 5


def test_first_official_response_median_and_p90_per_month_of_publication(world: World) -> None:
    rows = {row["month"]: row for row in selectors.response_times(RANGE)["first_response"]}
    # January: i1 answered after 12 h, i2 after 36 h: median 24, p90 = 12 + 0.9 x 24 = 33.6.
    assert rows["2026-01"] == {"month": "2026-01", "count": 2, "waiting": 0, "median_hours": 24.0, "p90_hours": 33.6}
    # February: i4 still waits for an answer, so there is no time to show.
    assert rows["2026-02"] == {"month": "2026-02", "count": 0, "waiting": 1, "median_hours": None, "p90_hours": None}
    assert (rows["2026-03"]["median_hours"], rows["2026-03"]["p90_hours"]) == (2.0, 2.0)


def test_time_in_moderation_counts_from_the_latest_submission_and_ignores_automatic_publication(world: World) -> None:
    rows = {row["month"]: row for row in selectors.response_times(RANGE)["moderation"]}
    # January: 24 h (i1), 48 h (i2). February: 6 h (i3; i4 was published without moderation).
    # March: i5 waited 10 h for "needs work", then 4 h after resubmitting: median 7, p90 = 4 + 0.9 x 6 = 9.4.
    assert [(m, r["count"], r["median_hours"], r["p90_hours"]) for m, r in rows.items()] == [
        ("2026-01", 2, 36.0, 45.6),
        ("2026-02", 1, 6.0, 6.0),
        ("2026-03", 2, 7.0, 9.4),
    ]


def test_ideas_in_progress_at_each_month_end_replay_the_history(world: World) -> None:
    rows = selectors.ideas_in_progress(RANGE)
    # December leaves i6 in review. Jan: i1 enters review. Feb: i2 enters review, i1 approved then in
    # development. Mar: i2 archived, i1 commercialised.
    assert [(r["month"], r["in_review"], r["approved"], r["in_development"], r["total"]) for r in rows] == [
        ("2026-01", 2, 0, 0, 2),
        ("2026-02", 2, 0, 1, 3),
        ("2026-03", 1, 0, 0, 1),
    ]


def test_participation_by_tier_and_month(world: World) -> None:
    rows = {(r["month"], r["tier"]): r for r in selectors.participation(RANGE)}
    figures = {key: (r["active_members"], r["supports"], r["comments"], r["attendance"]) for key, r in rows.items()}
    assert figures == {
        # g1 (idea, comment) and g2 (support); s1 (idea, support); b1 (comment). The creator's own support
        # and the support of a customer without an organisation are left out.
        ("2026-01", "gold"): (2, 1, 1, 0),
        ("2026-01", "silver"): (1, 1, 0, 0),
        ("2026-01", "bronze"): (1, 0, 1, 0),
        # g2 (idea, support, session) and b1 (idea, support, session); s1 joined session s without speaking;
        # the facilitator is staff.
        ("2026-02", "gold"): (1, 1, 0, 1),
        ("2026-02", "silver"): (1, 0, 0, 1),
        ("2026-02", "bronze"): (1, 1, 0, 1),
        # g1 (idea, support) and g2 (session in board Y); s1 (comment).
        ("2026-03", "gold"): (2, 1, 0, 1),
        ("2026-03", "silver"): (1, 0, 1, 0),
        ("2026-03", "bronze"): (0, 0, 0, 0),
    }


def test_participation_follows_the_board_and_tier_filters(world: World) -> None:
    rows = selectors.participation(only(RANGE, board_id=world.board_x.pk, tier="gold"))
    assert [(r["month"], r["tier"], r["active_members"], r["attendance"]) for r in rows] == [
        ("2026-01", "gold", 2, 0),
        ("2026-02", "gold", 1, 1),
        ("2026-03", "gold", 1, 0),  # g2's session in board Y no longer counts
    ]


def test_attendance_counts_who_joined_the_rooms_by_tier_and_month(world: World) -> None:
    # Session s (February): g2, b1 and s1 joined (s1 never spoke), the staff facilitator does not count.
    # Session t (March): g2.
    assert selectors.attendance(RANGE) == [
        {"month": "2026-02", "sessions": 1, "gold": 1, "silver": 1, "bronze": 1, "total": 3},
        {"month": "2026-03", "sessions": 1, "gold": 1, "silver": 0, "bronze": 0, "total": 1},
    ]
    assert selectors.attendance(only(RANGE, board_id=world.board_y.pk)) == [
        {"month": "2026-03", "sessions": 1, "gold": 1, "silver": 0, "bronze": 0, "total": 1}
    ]
    assert selectors.attendance(only(RANGE, tier="silver")) == [
        {"month": "2026-02", "sessions": 1, "gold": 0, "silver": 1, "bronze": 0, "total": 1}
    ]


def test_joining_a_room_is_logged_once_per_session_with_first_and_last_time(world: World) -> None:
    presence.presence_record(session_id=world.session_t.pk, user_id=world.s1.pk, now=at("2026-03-20 09:30"))
    presence.presence_record(session_id=world.session_t.pk, user_id=world.s1.pk, now=at("2026-03-20 10:15"))
    presence.presence_record(session_id=world.session_t.pk, user_id=world.s1.pk, now=at("2026-03-20 10:00"))
    row = SessionPresence.objects.get(session=world.session_t, user=world.s1)
    assert (row.first_joined_at, row.last_seen_at) == (at("2026-03-20 09:30"), at("2026-03-20 10:15"))
    march = selectors.attendance(RANGE)[-1]
    assert (march["month"], march["gold"], march["silver"], march["total"]) == ("2026-03", 1, 1, 2)


def test_nps_over_time_overall_and_per_board(world: World) -> None:
    result = selectors.nps(RANGE)
    overall = [
        (r["month"], r["responses"], r["promoters"], r["passives"], r["detractors"], r["nps"])
        for r in result["overall"]
    ]
    assert overall == [
        ("2026-01", 1, 1, 0, 0, 100.0),  # b1's 10 in the quarterly survey
        ("2026-02", 3, 1, 1, 1, 0.0),  # session s: 10, 6, 8
        ("2026-03", 3, 2, 0, 1, 33.3),  # session t: 9; quarterly: 3 and 9
    ]
    (total,) = result["total"]
    # 7 answers: promoters 10, 10, 9, 9; passive 8; detractors 6, 3: (4 - 2) / 7 = 28.57 %.
    assert (total["responses"], total["promoters"], total["passives"], total["detractors"], total["nps"]) == (
        7,
        4,
        1,
        2,
        28.6,
    )
    assert [(r["board"], r["responses"], r["nps"]) for r in result["by_board"]] == [
        ("Board X", 3, 0.0),
        ("Board Y", 1, 100.0),
    ]
    assert [(r["board"], r["month"], r["nps"]) for r in result["by_board_month"]] == [
        ("Board X", "2026-02", 0.0),
        ("Board Y", "2026-03", 100.0),
    ]


def test_nps_for_one_tier_and_one_board(world: World) -> None:
    (gold,) = selectors.nps(only(RANGE, tier="gold"))["total"]
    # g2: 10 and 9 in sessions; g1: 3 in the quarterly survey.
    assert (gold["responses"], gold["promoters"], gold["detractors"], gold["nps"]) == (3, 2, 1, 33.3)
    board = selectors.nps(only(RANGE, board_id=world.board_y.pk))
    assert [(r["month"], r["responses"], r["nps"]) for r in board["overall"]] == [("2026-03", 1, 100.0)]


def test_nps_by_tier_uses_the_tier_stored_when_answering(world: World) -> None:
    # g2's gold organisation drops to bronze after answering: the answers (10 and 9) stay gold.
    type(world.gold).objects.filter(pk=world.gold.pk).update(tier="bronze")
    (gold,) = selectors.nps(only(RANGE, tier="gold"))["total"]
    assert (gold["responses"], gold["promoters"], gold["detractors"]) == (3, 2, 1)
    (bronze,) = selectors.nps(only(RANGE, tier="bronze"))["total"]
    # b1: 6 in session s, 10 in the quarterly survey.
    assert (bronze["responses"], bronze["promoters"], bronze["detractors"], bronze["nps"]) == (2, 1, 1, 0.0)


def test_the_session_survey_stores_the_respondents_tier_when_answering(world: World) -> None:
    response = boards_services.nps_submit(session=world.session_t, user=world.g2, score=7)
    assert (response.organisation_id, response.tier) == (world.gold.pk, "gold")
    type(world.gold).objects.filter(pk=world.gold.pk).update(tier="silver")
    response.refresh_from_db()
    assert response.tier == "gold"


def test_csat_average_and_share_satisfied(world: World) -> None:
    result = selectors.csat(RANGE)
    assert [
        (r["month"], r["responses"], r["average"], r["satisfied"], r["satisfied_rate"]) for r in result["by_month"]
    ] == [
        ("2026-02", 2, 3.0, 1, 50.0),
        ("2026-03", 2, 4.5, 2, 100.0),
    ]
    # 15 / 4 = 3.75, shown half up as 3.8; 3 of 4 answered 4 or 5.
    assert [(r["responses"], r["average"], r["satisfied_rate"]) for r in result["total"]] == [(4, 3.8, 75.0)]
    assert [(r["tier"], r["responses"], r["average"]) for r in result["by_tier"]] == [
        ("bronze", 1, 4.0),
        ("gold", 2, 3.5),
        ("silver", 1, 4.0),
    ]
    (campaign_a,) = selectors.csat(only(RANGE, campaign_id=world.campaign_a.pk))["total"]
    assert (campaign_a["responses"], campaign_a["average"]) == (2, 4.5)
    (board_x,) = selectors.csat(only(RANGE, board_id=world.board_x.pk))["total"]
    assert (board_x["responses"], board_x["average"], board_x["satisfied_rate"]) == (2, 3.0, 50.0)


def test_demand_counts_each_account_once_and_sums_its_revenue(world: World) -> None:
    result = selectors.demand(RANGE)
    i4, i5, i6 = (world.ideas[k].pk for k in ("i4", "i5", "i6"))
    # i6: g1 and g2 (one gold account) and s1; i5: b1 and s1; i4: g1. Closed ideas (i1, i2) are left out.
    assert [(r["idea_id"], r["accounts"]) for r in result["by_accounts"]] == [(i5, 2), (i6, 2), (i4, 1)]
    assert [(r["idea_id"], r["revenue"], r["accounts"]) for r in result["by_revenue"]] == [
        (i6, "1500000.50", 2),
        (i4, "1000000.00", 1),
        (i5, "750000.75", 2),
    ]
    silver = selectors.demand(only(RANGE, tier="silver"))
    assert [(r["idea_id"], r["revenue"]) for r in silver["by_revenue"]] == [(i5, "500000.50"), (i6, "500000.50")]


def test_an_empty_range_gives_no_data_rather_than_zeros(world: World) -> None:
    figures = selectors.insights_compute(EMPTY)
    assert figures["funnel"] == {"by_campaign": [], "by_month": [], "total": []}
    assert figures["response_times"] == {"first_response": [], "moderation": []}
    assert figures["in_progress"] == []
    assert figures["participation"] == []
    assert figures["nps"] == {"overall": [], "by_board": [], "by_board_month": [], "total": []}
    assert figures["csat"] == {"by_month": [], "by_tier": [], "total": []}


@pytest.mark.parametrize(
    ("promoters", "detractors", "responses", "expected"),
    [(1, 0, 1, 100.0), (0, 1, 1, -100.0), (1, 1, 3, 0.0), (2, 1, 3, 33.3), (1, 2, 3, -33.3), (0, 0, 0, None)],
)
def test_nps_is_percent_promoters_minus_percent_detractors_to_one_decimal(
    promoters: int, detractors: int, responses: int, expected: float | None
) -> None:
    assert selectors.nps_score(promoters=promoters, detractors=detractors, responses=responses) == expected


def test_percentiles_interpolate_between_ranks() -> None:
    assert selectors.percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.5
    assert selectors.percentile([10.0], 0.9) == 10.0
    assert selectors.percentile([], 0.5) is None
    assert selectors.percentile([0.0, 10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0, 100.0], 0.9) == 90.0
