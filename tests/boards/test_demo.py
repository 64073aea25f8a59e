from __future__ import annotations

import pytest

from boards.demo import seed_demo
from boards.models import Board, Session
from boards.selectors import session_access
from cocreate.demo import seed_core

pytestmark = pytest.mark.django_db


def test_the_demo_board_has_a_live_session_and_members_who_can_join_it(site):
    people = seed_core()
    seed_demo(people=people)
    seed_demo(people=people)
    board = Board.objects.get()
    live = Session.objects.get(state=Session.State.LIVE)
    assert board.sessions.count() == 2
    assert live.agenda_items.count() == 4
    assert live.pre_reads.count() == 1
    assert session_access(user=people.board_member, session_id=live.pk).is_facilitator is False
    assert session_access(user=people.board_member2, session_id=live.pk)
    assert session_access(user=people.product_manager, session_id=live.pk).is_facilitator is True
    assert live.pre_reads.get().document.collection_id == board.pre_read_collection_id


def test_the_demo_sessions_agenda_links_the_most_supported_demo_ideas(site):
    from ideas.demo import seed_demo as seed_ideas
    from ideas.selectors import most_supported_ideas

    people = seed_core()
    seed_ideas(people=people)
    seed_demo(people=people)
    seed_demo(people=people)
    live = Session.objects.get(state=Session.State.LIVE)
    roadmap = live.agenda_items.get(order=2)
    assert set(roadmap.ideas.all()) == set(most_supported_ideas(limit=2))
    assert roadmap.ideas.count() == 2
    assert live.agenda_items.get(order=3).ideas.exists()
    assert not live.agenda_items.get(order=1).ideas.exists()
