"""A small hand-made world for the metric tests, with every timestamp chosen so the figures can be worked out
by hand (see the expected numbers in each test). Range under test: 2026-01-01 to 2026-03-31, UTC."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from boards.models import Board, NpsResponse, Session, SessionEvent
from cocreate.insights.selectors import InsightFilters
from cocreate.models import Organisation, SessionPresence, Survey, SurveyAnswer, User
from cocreate.roles import Role
from ideas.models import Comment, Idea, IdeaCampaignPage, StatusChange, Support
from tests.boards.factories import BoardFactory, MembershipFactory, SessionFactory
from tests.factories import OrganisationFactory, UserFactory
from tests.ideas.factories import IdeaFactory, campaign_create

RANGE = InsightFilters(start=datetime.date(2026, 1, 1), end=datetime.date(2026, 3, 31))


def at(text: str) -> datetime.datetime:
    """'2026-01-05 10:00' in UTC."""
    return datetime.datetime.fromisoformat(text).replace(tzinfo=datetime.UTC)


def backdate(instance: Any, when: str) -> None:
    type(instance).objects.filter(pk=instance.pk).update(created_at=at(when))


@dataclass
class World:
    gold: Organisation
    silver: Organisation
    bronze: Organisation
    g1: User
    g2: User
    s1: User
    b1: User
    pm: User
    campaign_a: IdeaCampaignPage
    campaign_b: IdeaCampaignPage
    ideas: dict[str, Idea]
    board_x: Board
    board_y: Board
    session_s: Session
    session_t: Session


def _idea(campaign: IdeaCampaignPage, creator: User, created: str, **fields: Any) -> Idea:
    fields.setdefault("published_at", None)
    fields.setdefault("deadline", None)
    idea = IdeaFactory(campaign=campaign, creator=creator, **fields)
    backdate(idea, created)
    idea.refresh_from_db()
    return idea


def _history(idea: Idea, *moves: tuple[str, str, str, User | None]) -> None:
    for from_status, to_status, when, actor in moves:
        change = StatusChange.objects.create(idea=idea, from_status=from_status, to_status=to_status, actor=actor)
        backdate(change, when)


def _support(idea: Idea, user: User, when: str, *, counts: bool = True) -> None:
    backdate(Support.objects.create(idea=idea, user=user, counts=counts), when)


@pytest.fixture
def world(site: Any) -> World:
    gold = OrganisationFactory(tier="gold", annual_revenue=Decimal("1000000.00"))
    silver = OrganisationFactory(tier="silver", annual_revenue=Decimal("500000.50"))
    bronze = OrganisationFactory(tier="bronze", annual_revenue=Decimal("250000.25"))
    g1 = UserFactory(roles=[Role.CUSTOMER], organisation=gold)
    g2 = UserFactory(roles=[Role.CUSTOMER, Role.BOARD_MEMBER], organisation=gold)
    s1 = UserFactory(roles=[Role.CUSTOMER, Role.BOARD_MEMBER], organisation=silver)
    b1 = UserFactory(roles=[Role.CUSTOMER, Role.BOARD_MEMBER], organisation=bronze)
    nobody = UserFactory(roles=[Role.CUSTOMER])
    pm = UserFactory(roles=[Role.PRODUCT_MANAGER], is_staff=True)
    a = campaign_create(title="Campaign A")
    b = campaign_create(title="Campaign B")
    p, s = Idea.Status, "pending"

    i1 = _idea(
        a, g1, "2026-01-05 10:00", status=p.COMMERCIALISED, milestones_reached=4,
        first_milestone_at=at("2026-01-15 00:00"), published_at=at("2026-01-06 10:00"), first_official_response_at=at("2026-01-06 22:00"),
    )  # fmt: skip
    _history(
        i1,
        ("", s, "2026-01-05 10:00", g1),
        (s, p.PUBLISHED, "2026-01-06 10:00", pm),
        (p.PUBLISHED, p.IN_REVIEW, "2026-01-20 00:00", None),
        (p.IN_REVIEW, p.APPROVED, "2026-02-10 00:00", pm),
        (p.APPROVED, p.IN_DEVELOPMENT, "2026-02-20 00:00", pm),
        (p.IN_DEVELOPMENT, p.COMMERCIALISED, "2026-03-15 00:00", pm),
    )
    i2 = _idea(
        a, s1, "2026-01-10 08:00", status=p.ARCHIVED, milestones_reached=4,
        first_milestone_at=at("2026-01-25 00:00"), published_at=at("2026-01-12 08:00"), first_official_response_at=at("2026-01-13 20:00"),
    )  # fmt: skip
    _history(
        i2,
        ("", s, "2026-01-10 08:00", s1),
        (s, p.PUBLISHED, "2026-01-12 08:00", pm),
        (p.PUBLISHED, p.IN_REVIEW, "2026-02-01 00:00", None),
        (p.IN_REVIEW, p.ARCHIVED, "2026-03-01 00:00", pm),
    )
    i3 = _idea(a, b1, "2026-02-03 09:00", status=p.REJECTED)
    _history(i3, ("", s, "2026-02-03 09:00", b1), (s, p.REJECTED, "2026-02-03 15:00", pm))
    i4 = _idea(
        b, g2, "2026-02-14 12:00", status=p.PUBLISHED, milestones_reached=1,
        first_milestone_at=at("2026-02-20 12:00"), published_at=at("2026-02-14 12:00"),
    )  # fmt: skip
    _history(i4, ("", s, "2026-02-14 12:00", g2), (s, p.PUBLISHED, "2026-02-14 12:00", None))
    i5 = _idea(
        b, g1, "2026-03-02 16:00", status=p.PUBLISHED,
        published_at=at("2026-03-05 04:00"), first_official_response_at=at("2026-03-05 06:00"),
    )  # fmt: skip
    _history(
        i5,
        ("", s, "2026-03-02 16:00", g1),
        (s, p.NEEDS_WORK, "2026-03-03 02:00", pm),
        (p.NEEDS_WORK, s, "2026-03-05 00:00", g1),
        (s, p.PUBLISHED, "2026-03-05 04:00", pm),
    )
    i6 = _idea(
        a, g1, "2025-12-20 09:00", status=p.IN_REVIEW, milestones_reached=4,
        first_milestone_at=at("2025-12-24 09:00"), published_at=at("2025-12-21 09:00"),
    )  # fmt: skip
    _history(
        i6,
        ("", s, "2025-12-20 09:00", g1),
        (s, p.PUBLISHED, "2025-12-21 09:00", pm),
        (p.PUBLISHED, p.IN_REVIEW, "2025-12-30 00:00", None),
    )

    _support(i1, g1, "2026-01-05 10:00", counts=False)
    _support(i1, s1, "2026-01-15 10:00")
    _support(i1, g2, "2026-01-16 10:00")
    _support(i1, nobody, "2026-01-17 10:00")
    _support(i1, b1, "2026-02-02 10:00")
    _support(i2, g2, "2026-02-05 10:00")
    _support(i4, g1, "2026-03-01 10:00")
    _support(i5, b1, "2025-12-25 10:00")
    _support(i5, s1, "2025-12-25 11:00")
    _support(i6, g1, "2025-12-25 12:00")
    _support(i6, g2, "2025-12-25 13:00")
    _support(i6, s1, "2025-12-25 14:00")

    for idea, author, when, kind in [
        (i1, b1, "2026-01-20 10:00", Comment.Kind.COMMENT),
        (i2, g1, "2026-01-21 10:00", Comment.Kind.COMMENT),
        (i4, s1, "2026-03-10 10:00", Comment.Kind.COMMENT),
        (i1, pm, "2026-01-06 22:00", Comment.Kind.OFFICIAL),
    ]:
        backdate(Comment.objects.create(idea=idea, author=author, body="<p>x</p>", kind=kind), when)

    board_x = BoardFactory(name="Board X")
    board_y = BoardFactory(name="Board Y")
    for board, user in [(board_x, g2), (board_x, b1), (board_x, s1), (board_y, g2)]:
        MembershipFactory(board=board, user=user)
    session_s = SessionFactory(
        board=board_x, starts_at=at("2026-02-10 09:00"), ends_at=at("2026-02-10 11:00"),
        state=Session.State.ENDED, ended_at=at("2026-02-10 11:00"),
    )  # fmt: skip
    session_t = SessionFactory(
        board=board_y, starts_at=at("2026-03-20 09:00"), ends_at=at("2026-03-20 11:00"),
        state=Session.State.ENDED, ended_at=at("2026-03-20 11:00"),
    )  # fmt: skip
    for seq, (session, author, when) in enumerate(
        [
            (session_s, g2, "2026-02-10 09:10"),
            (session_s, g2, "2026-02-10 09:20"),
            (session_s, b1, "2026-02-10 09:30"),
            (session_s, pm, "2026-02-10 09:00"),
            (session_s, pm, "2026-02-10 09:40"),
            (session_t, g2, "2026-03-20 09:10"),
        ],
        start=1,
    ):
        event = SessionEvent.objects.create(session=session, seq=seq, kind="chat.message", author=author)
        backdate(event, when)

    # Who joined the rooms: s1 joined session s without saying anything; the facilitator is staff.
    for session, user, joined, seen in [
        (session_s, pm, "2026-02-10 08:55", "2026-02-10 11:00"),
        (session_s, g2, "2026-02-10 09:05", "2026-02-10 10:30"),
        (session_s, b1, "2026-02-10 09:08", "2026-02-10 09:08"),
        (session_s, s1, "2026-02-10 09:15", "2026-02-10 10:50"),
        (session_t, g2, "2026-03-20 09:02", "2026-03-20 09:02"),
    ]:
        SessionPresence.objects.create(session=session, user=user, first_joined_at=at(joined), last_seen_at=at(seen))

    for session, user, score, when in [
        (session_s, g2, 10, "2026-02-11 10:00"),
        (session_s, b1, 6, "2026-02-11 11:00"),
        (session_s, s1, 8, "2026-02-12 10:00"),
        (session_t, g2, 9, "2026-03-21 10:00"),
    ]:
        organisation = user.organisation
        response = NpsResponse.objects.create(
            session=session, user=user, score=score, organisation=organisation, tier=organisation.tier
        )
        backdate(response, when)

    quarter_q1 = Survey.objects.create(kind=Survey.Kind.NPS, occasion=Survey.Occasion.QUARTER, period="2026-Q1")
    csat_i1 = Survey.objects.create(kind=Survey.Kind.CSAT, occasion=Survey.Occasion.IDEA_CLOSED, idea=i1)
    csat_s = Survey.objects.create(kind=Survey.Kind.CSAT, occasion=Survey.Occasion.SESSION_ENDED, session=session_s)
    for survey, user, score, when in [
        (quarter_q1, b1, 10, "2026-01-08 10:00"),
        (quarter_q1, g1, 3, "2026-03-05 10:00"),
        (quarter_q1, s1, 9, "2026-03-06 10:00"),
        (csat_i1, g1, 5, "2026-03-16 10:00"),
        (csat_i1, s1, 4, "2026-03-17 10:00"),
        (csat_s, g2, 2, "2026-02-11 10:00"),
        (csat_s, b1, 4, "2026-02-12 10:00"),
    ]:
        organisation = user.organisation
        answer = SurveyAnswer.objects.create(
            survey=survey,
            respondent=user,
            kind=survey.kind,
            score=score,
            organisation=organisation,
            tier=organisation.tier if organisation else "",
        )
        backdate(answer, when)

    ideas = {"i1": i1, "i2": i2, "i3": i3, "i4": i4, "i5": i5, "i6": i6}
    return World(gold, silver, bronze, g1, g2, s1, b1, pm, a, b, ideas, board_x, board_y, session_s, session_t)
