"""The boards pages, per role: list, board and charter, session, live room, calendar, minutes, survey, NPS."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from wagtail.documents.models import Document

from boards.models import BoardMembership, NpsResponse, PreRead, PreReadAcknowledgement, Session
from cocreate.roles import Role
from tests.boards.factories import MembershipFactory
from tests.conftest import logged_in_client
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def client_for(room, role):
    user = {
        "outsider": room.outsider,
        "member": room.member,
        "facilitator": room.facilitator,
        "product_manager": UserFactory(roles=[Role.PRODUCT_MANAGER], is_staff=True),
        "finance": UserFactory(roles=[Role.FINANCE], is_staff=True),
    }.get(role)
    if user is None:
        from django.test import Client

        return Client()
    return logged_in_client(user)


SESSION_PAGES = ["session", "live", "session_ics"]


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("anonymous", 302),
        ("outsider", 403),
        ("finance", 403),
        ("member", 200),
        ("facilitator", 200),
        ("product_manager", 200),
    ],
)
@pytest.mark.parametrize("page", SESSION_PAGES)
def test_session_pages_per_role(room, site, role, expected, page):
    response = client_for(room, role).get(
        f"/boards/sessions/{room.session.pk}/" + {"session": "", "live": "live/", "session_ics": "calendar.ics"}[page]
    )
    assert response.status_code == expected


@pytest.mark.parametrize(
    ("role", "expected"), [("anonymous", 302), ("outsider", 403), ("member", 200), ("facilitator", 200)]
)
def test_board_page_per_role(room, site, role, expected):
    response = client_for(room, role).get(f"/boards/{room.board.pk}/")
    assert response.status_code == expected
    if expected == 200:
        assert room.session.title in response.content.decode()


def test_the_board_list_shows_only_my_boards(room, site):
    body = client_for(room, "member").get("/boards/").content.decode()
    assert room.board.name in body
    assert room.board.name not in client_for(room, "outsider").get("/boards/").content.decode()


def test_a_member_sees_the_charter_and_nothing_else_until_accepting_it(room, site):
    BoardMembership.objects.filter(user=room.member).update(charter_accepted_at=None)
    client = client_for(room, "member")
    body = client.get(f"/boards/{room.board.pk}/").content.decode()
    assert room.board.charter_text in body
    assert room.session.title not in body
    assert client.get(f"/boards/sessions/{room.session.pk}/").status_code == 403
    client.post(f"/boards/{room.board.pk}/charter/", {"version": room.board.charter_version})  # box not ticked
    assert not BoardMembership.objects.get(user=room.member).charter_current
    client.post(f"/boards/{room.board.pk}/charter/", {"version": room.board.charter_version, "agree": "yes"})
    membership = BoardMembership.objects.get(user=room.member)
    assert membership.charter_current
    assert membership.charter_version_accepted == room.board.charter_version
    assert client.get(f"/boards/sessions/{room.session.pk}/").status_code == 200


def test_the_calendar_file_holds_the_session_in_utc(room, site):
    response = client_for(room, "member").get(f"/boards/sessions/{room.session.pk}/calendar.ics")
    body = response.content.decode()
    assert response["Content-Type"].startswith("text/calendar")
    assert f"DTSTART:{room.session.starts_at.astimezone(__import__('datetime').UTC):%Y%m%dT%H%M%SZ}" in body
    assert "BEGIN:VEVENT" in body
    assert "\r\n" in body


def test_pre_reads_are_served_to_members_only_and_acknowledged(room, site):
    document = Document.objects.create(title="Market brief", file=ContentFile(b"%PDF-1.4 brief", name="brief.pdf"))
    pre_read = PreRead.objects.create(session=room.session, document=document)
    member = client_for(room, "member")
    assert member.get(f"/boards/pre-reads/{pre_read.pk}/").status_code == 200
    assert client_for(room, "outsider").get(f"/boards/pre-reads/{pre_read.pk}/").status_code == 403
    assert "I have read this" in member.get(f"/boards/sessions/{room.session.pk}/").content.decode()
    member.post(f"/boards/pre-reads/{pre_read.pk}/read/")
    member.post(f"/boards/pre-reads/{pre_read.pk}/read/")
    assert PreReadAcknowledgement.objects.filter(pre_read=pre_read, user=room.member).count() == 1
    host_view = client_for(room, "facilitator").get(f"/boards/sessions/{room.session.pk}/").content.decode()
    assert "Read by 1 of 2 members" in host_view
    assert "Mia Member" in host_view


def test_minutes_wait_for_the_end_of_the_session_for_members(room, site):
    assert client_for(room, "member").get(f"/boards/sessions/{room.session.pk}/minutes/").status_code == 404
    assert client_for(room, "facilitator").get(f"/boards/sessions/{room.session.pk}/minutes/").status_code == 200


def test_the_live_room_page_loads_its_script_without_inline_code(room, site):
    body = client_for(room, "member").get(f"/boards/sessions/{room.session.pk}/live/").content.decode()
    assert "boards/live.js" in body
    assert 'id="live-config" type="application/json"' in body
    assert "onclick" not in body


def test_members_answer_the_survey_once_the_session_ended(room, site):
    client = client_for(room, "member")
    assert client.post(f"/boards/sessions/{room.session.pk}/survey/", {"score": "9"}).status_code == 200
    assert not NpsResponse.objects.exists()
    Session.objects.filter(pk=room.session.pk).update(state=Session.State.ENDED)
    response = client.post(f"/boards/sessions/{room.session.pk}/survey/", {"score": "9", "comment": "<b>Great</b>"})
    assert response.status_code == 302
    client.post(f"/boards/sessions/{room.session.pk}/survey/", {"score": "10"})
    answer = NpsResponse.objects.get()
    assert (answer.score, answer.comment) == (10, "")
    assert client.post(f"/boards/sessions/{room.session.pk}/survey/", {"score": "11"}).status_code == 200


def test_facilitators_see_nps_per_board_with_promoters_and_detractors(room, site):
    Session.objects.filter(pk=room.session.pk).update(state=Session.State.ENDED)
    NpsResponse.objects.create(session=room.session, user=room.member, score=10)
    NpsResponse.objects.create(session=room.session, user=room.member2, score=3, comment="Too long")
    third = MembershipFactory(board=room.board, user=UserFactory()).user
    NpsResponse.objects.create(session=room.session, user=third, score=8)
    response = client_for(room, "facilitator").get(f"/boards/{room.board.pk}/nps/")
    assert response.status_code == 200
    assert response.context["overall"].score == 0  # 1 promoter, 1 passive, 1 detractor
    assert "Too long" in response.content.decode()
    assert client_for(room, "member").get(f"/boards/{room.board.pk}/nps/").status_code == 403
