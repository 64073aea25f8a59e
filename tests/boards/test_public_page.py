"""A board's optional public page shows its name, public description and how to apply, and nothing private."""

from __future__ import annotations

import pytest
from django.test import Client

from boards.models import BoardPage

pytestmark = pytest.mark.django_db


@pytest.fixture
def public_page(room, site) -> BoardPage:
    page = BoardPage(
        title=room.board.name,
        slug="advisory-board",
        public_description="<p>Executives shape our roadmap.</p><script>alert(1)</script>",
        how_to_apply="<p>Ask your account manager.</p>",
    )
    site.add_child(instance=page)
    page.save_revision().publish()
    return page


def test_anyone_reads_the_public_page_without_members_sessions_or_charter(room, public_page):
    response = Client().get(public_page.url)
    assert response.status_code == 200
    html = response.content.decode()
    assert room.board.name in html
    assert "Executives shape our roadmap." in html
    assert "Ask your account manager." in html
    assert "<script>alert(1)</script>" not in html
    for private in (
        "Mia Member",
        "Max Member",
        "Fran Facilitator",
        room.session.title,
        room.board.charter_text,
        "Topic 1",
    ):
        assert private not in html


def test_the_public_page_lives_under_the_home_page_and_has_no_children():
    assert BoardPage.parent_page_types == ["cocreate.HomePage", "cocreate.ContentPage"]
    assert BoardPage.allowed_subpage_models() == []
