"""The boards REST API, per role."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from boards import services
from boards.models import BoardMembership, Session
from boards.selectors import session_access
from cocreate.roles import Role
from tests.boards.factories import BoardFactory, MembershipFactory, SessionFactory
from tests.conftest import api_client_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def role_user(room, role):
    return {
        "anonymous": None,
        "outsider": room.outsider,
        "member": room.member,
        "facilitator": room.facilitator,
        "product_manager": UserFactory(roles=[Role.PRODUCT_MANAGER], is_staff=True),
        "finance": UserFactory(roles=[Role.FINANCE], is_staff=True),
    }[role]


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("anonymous", 403),
        ("outsider", 403),
        ("member", 200),
        ("facilitator", 200),
        ("product_manager", 200),
        ("finance", 403),
    ],
)
def test_session_detail_per_role(room, role, expected):
    response = api_client_for(role_user(room, role)).get(f"/api/sessions/{room.session.pk}/")
    assert response.status_code == expected
    if expected == 200:
        assert [a["title"] for a in response.json()["agenda"]] == ["Topic 1", "Topic 2", "Topic 3"]


def test_board_list_shows_members_their_boards_with_the_charter_state(room):
    BoardFactory(name="Someone else's board")
    body = api_client_for(room.member).get("/api/boards/").json()
    assert [(b["name"], b["charter_accepted"]) for b in body["results"]] == [(room.board.name, True)]
    assert api_client_for(room.outsider).get("/api/boards/").json()["results"] == []
    assert len(api_client_for(role_user(room, "product_manager")).get("/api/boards/").json()["results"]) == 2
    assert api_client_for(None).get("/api/boards/").status_code == 403


def test_sessions_list_only_what_the_user_may_see(room):
    other = SessionFactory(title="Elsewhere")
    titles = {s["title"] for s in api_client_for(room.member).get("/api/sessions/").json()["results"]}
    assert titles == {room.session.title}
    assert api_client_for(room.member).get(f"/api/sessions/?board={other.board_id}").json()["results"] == []
    BoardMembership.objects.filter(user=room.member).update(charter_accepted_at=None)
    assert api_client_for(room.member).get("/api/sessions/").json()["results"] == []


def test_events_after_returns_the_visible_events_in_order(room, django_capture_on_commit_callbacks):
    access = session_access(user=room.member, session_id=room.session.pk)
    with django_capture_on_commit_callbacks(execute=True):
        first = services.chat_send(access=access, user=room.member, body="one")
        services.chat_send(access=access, user=room.member, body="two")
        room.session.moderate_questions = True
        room.session.save()
        services.question_ask(access=access, user=room.member2, body="pending")
    response = api_client_for(room.member).get(f"/api/sessions/{room.session.pk}/events/?after={first.pk}")
    body = response.json()
    assert [e["payload"]["body"] for e in body["events"]] == ["two"]
    assert body["has_more"] is False
    assert body["last_id"] == body["events"][-1]["id"]
    host = api_client_for(room.facilitator).get(f"/api/sessions/{room.session.pk}/events/?after=0").json()
    assert [e["kind"] for e in host["events"]] == ["chat.message", "chat.message", "question.asked"]
    assert api_client_for(room.outsider).get(f"/api/sessions/{room.session.pk}/events/").status_code == 403
    assert api_client_for(room.member).get(f"/api/sessions/{room.session.pk}/events/?after=x").status_code == 400


def test_the_events_endpoint_pages_with_has_more(room, settings):
    settings.BOARDS_RESUME_MAX_EVENTS = 2
    access = session_access(user=room.member, session_id=room.session.pk)
    for i in range(3):
        services.chat_send(access=access, user=room.member, body=f"m{i}")
    body = api_client_for(room.member).get(f"/api/sessions/{room.session.pk}/events/?after=0").json()
    assert len(body["events"]) == 2
    assert body["has_more"] is True


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("anonymous", 403),
        ("outsider", 403),
        ("member", 403),
        ("facilitator", 201),
        ("product_manager", 201),
        ("finance", 403),
    ],
)
def test_adding_members_per_role(room, role, expected):
    newcomer = UserFactory(roles=[Role.BOARD_MEMBER])
    response = api_client_for(role_user(room, role)).post(
        f"/api/boards/{room.board.pk}/members/", {"user": newcomer.email}, format="json"
    )
    assert response.status_code == expected
    assert BoardMembership.objects.filter(user=newcomer).exists() == (expected == 201)


def test_adding_by_id_and_an_unknown_user(room):
    newcomer = UserFactory()
    client = api_client_for(room.facilitator)
    assert (
        client.post(f"/api/boards/{room.board.pk}/members/", {"user": str(newcomer.pk)}, format="json").status_code
        == 201
    )
    assert (
        client.post(f"/api/boards/{room.board.pk}/members/", {"user": "nobody@x.example"}, format="json").status_code
        == 404
    )


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("anonymous", 403),
        ("outsider", 403),
        ("member", 403),
        ("facilitator", 204),
        ("product_manager", 204),
        ("finance", 403),
    ],
)
def test_removing_members_per_role(room, role, expected):
    response = api_client_for(role_user(room, role)).delete(f"/api/boards/{room.board.pk}/members/{room.member2.pk}/")
    assert response.status_code == expected
    assert BoardMembership.objects.filter(user=room.member2).exists() == (expected != 204)


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("anonymous", 403),
        ("outsider", 403),
        ("member", 403),
        ("facilitator", 201),
        ("product_manager", 201),
        ("finance", 403),
    ],
)
def test_scheduling_sessions_per_role(room, role, expected):
    response = api_client_for(role_user(room, role)).post(
        "/api/sessions/",
        {
            "board": room.board.pk,
            "title": "Q1 strategy",
            "starts_at": "2027-01-15T09:00:00+08:00",
            "agenda": [{"title": "Welcome", "duration_minutes": 10}, {"title": "Roadmap", "duration_minutes": 50}],
        },
        format="json",
    )
    assert response.status_code == expected
    if expected == 201:
        session = Session.objects.get(title="Q1 strategy")
        assert (session.ends_at - session.starts_at).total_seconds() == 3600
        assert [a.title for a in session.agenda_items.all()] == ["Welcome", "Roadmap"]


def test_members_accept_the_current_charter_only(room):
    membership = MembershipFactory(
        board=room.board, user=UserFactory(), charter_accepted_at=None, charter_version_accepted=""
    )
    client = api_client_for(membership.user)
    assert (
        client.post(f"/api/boards/{room.board.pk}/charter/accept/", {"version": "old"}, format="json").status_code
        == 409
    )
    response = client.post(
        f"/api/boards/{room.board.pk}/charter/accept/", {"version": room.board.charter_version}, format="json"
    )
    assert response.status_code == 200
    membership.refresh_from_db()
    assert membership.charter_current
    assert (
        api_client_for(room.outsider)
        .post(f"/api/boards/{room.board.pk}/charter/accept/", {}, format="json")
        .status_code
        == 403
    )


def test_the_schema_documents_every_boards_endpoint(room):
    schema = api_client_for(None).get("/api/schema/?format=json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    for expected in (
        "/api/boards/",
        "/api/boards/{id}/members/",
        "/api/boards/{id}/members/{user_id}/",
        "/api/boards/{id}/charter/accept/",
        "/api/sessions/",
        "/api/sessions/{id}/",
        "/api/sessions/{id}/events/",
    ):
        assert expected in paths, expected


def test_checking_session_access_costs_a_fixed_number_of_queries(room):
    with CaptureQueriesContext(connection) as queries:
        session_access(user=room.member, session_id=room.session.pk)
    assert len(queries) <= 4
