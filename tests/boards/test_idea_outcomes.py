"""Decisions and action items of board sessions show on the ideas they discussed, to those the charter allows."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from boards.models import ActionItem, Decision, Session
from boards.selectors import idea_outcomes
from cocreate.roles import Role
from tests.boards.factories import AgendaItemFactory, BoardFactory, MembershipFactory, SessionFactory
from tests.conftest import api_client_for, logged_in_client
from tests.factories import UserFactory
from tests.ideas.factories import IdeaFactory

pytestmark = pytest.mark.django_db

DECISION = "Ship carrier tracking in Q2"
ACTION = "Share the tracking prototype"
DISCUSSED = "A customer advisory board discussed this idea. What it said is confidential."


@pytest.fixture
def discussed(room, site):
    """An idea linked by the room's second agenda item, with a decision and an action item recorded on it."""
    idea = IdeaFactory(title="Carrier tracking")
    item = room.agenda[1]
    item.ideas.add(idea)
    Decision.objects.create(session=room.session, agenda_item=item, text=DECISION, recorded_by=room.facilitator)
    Decision.objects.create(
        session=room.session, agenda_item=room.agenda[0], text="Unrelated decision", recorded_by=room.facilitator
    )
    ActionItem.objects.create(
        session=room.session,
        agenda_item=item,
        title=ACTION,
        owner=room.member,
        due_date=datetime.date(2027, 1, 15),
        created_by=room.facilitator,
    )
    return idea


def _page(user, idea):
    client = logged_in_client(user) if user is not None else __import__("django.test").test.Client()
    response = client.get(f"/ideas/{idea.pk}/")
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize("who", ["product_manager", "staff_facilitator", "member"])
def test_product_managers_staff_and_members_who_accepted_the_charter_see_decisions_and_actions(room, discussed, who):
    user = {
        "product_manager": UserFactory(roles=[Role.PRODUCT_MANAGER]),
        "staff_facilitator": room.facilitator,
        "member": room.member,
    }[who]
    page = _page(user, discussed)
    assert DECISION in page
    assert ACTION in page
    assert "Mia Member" in page  # the owner
    assert "Open" in page  # the status
    assert room.session.title in page
    assert "Unrelated decision" not in page
    assert DISCUSSED not in page


@pytest.mark.parametrize("who", ["anonymous", "outside_customer", "member_without_charter", "member_of_another_board"])
def test_everyone_else_learns_only_that_a_board_discussed_the_idea(room, discussed, who):
    pending_member = UserFactory(roles=[Role.BOARD_MEMBER])
    MembershipFactory(board=room.board, user=pending_member, charter_accepted_at=None, charter_version_accepted="")
    other_member = UserFactory(roles=[Role.BOARD_MEMBER])
    MembershipFactory(board=BoardFactory(), user=other_member)
    user = {
        "anonymous": None,
        "outside_customer": room.outsider,
        "member_without_charter": pending_member,
        "member_of_another_board": other_member,
    }[who]
    page = _page(user, discussed)
    assert DISCUSSED in page
    for secret in (DECISION, ACTION, room.session.title, room.board.name, "Topic 2"):
        assert secret not in page


def test_a_member_of_one_board_sees_its_outcomes_and_only_a_note_about_another(room, discussed):
    other_board = BoardFactory(name="Other board")
    other_session = SessionFactory(board=other_board, title="Other session", state=Session.State.ENDED)
    other_item = AgendaItemFactory(session=other_session)
    other_item.ideas.add(discussed)
    Decision.objects.create(
        session=other_session, agenda_item=other_item, text="Other secret", recorded_by=room.facilitator
    )
    page = _page(room.member, discussed)
    assert DECISION in page
    assert "Other secret" not in page
    assert "Other session" not in page
    assert "Another customer advisory board discussed this idea too." in page


def test_scheduled_sessions_and_unlinked_ideas_show_nothing(room, site):
    idea = IdeaFactory()
    upcoming = SessionFactory(board=room.board, state=Session.State.SCHEDULED)
    AgendaItemFactory(session=upcoming).ideas.add(idea)
    for user in (room.member, room.outsider):
        assert 'data-testid="board-outcomes"' not in _page(user, idea)
    assert not idea_outcomes(idea=idea, user=room.member).discussed


def test_outcomes_cost_a_fixed_number_of_queries(room, discussed):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            idea_outcomes(idea=discussed, user=room.member)
        return len(queries)

    count()  # the viewer's roles are cached on first use
    before = count()
    for n in range(3):
        session = SessionFactory(board=room.board, state=Session.State.ENDED)
        item = AgendaItemFactory(session=session)
        item.ideas.add(discussed)
        Decision.objects.create(session=session, agenda_item=item, text=f"D{n}", recorded_by=room.facilitator)
    assert count() == before


def test_the_ideas_api_detail_carries_board_outcomes_for_staff_only(room, discussed):
    pm = UserFactory(roles=[Role.PRODUCT_MANAGER])
    data = api_client_for(pm).get(f"/api/ideas/{discussed.pk}/").json()["board_outcomes"]
    assert data["discussed"] is True
    (session,) = data["sessions"]
    assert session["id"] == room.session.pk
    assert session["board"] == room.board.name
    assert session["decisions"] == [{"text": DECISION, "agenda_item": "Topic 2"}]
    assert session["action_items"] == [
        {"title": ACTION, "owner": "Mia Member", "due_date": "2027-01-15", "status": "open"}
    ]
    for user in (None, room.outsider, room.member):
        assert api_client_for(user).get(f"/api/ideas/{discussed.pk}/").json()["board_outcomes"] is None
