"""Agenda items link customer ideas: chosen by facilitators, validated, shown wherever the agenda is."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from boards.models import AgendaItem, Session
from cocreate.roles import Role
from cocreate.services import roles_sync
from ideas.models import Idea
from tests.boards.factories import AgendaItemFactory
from tests.conftest import api_client_for, logged_in_client
from tests.factories import OrganisationFactory, UserFactory
from tests.ideas.factories import IdeaFactory, SupportFactory

pytestmark = pytest.mark.django_db


def _payload(room, ideas):
    return {
        "board": room.board.pk,
        "title": "Roadmap review",
        "starts_at": (timezone.now() + datetime.timedelta(days=3)).isoformat(),
        "agenda": [{"title": "Visibility", "duration_minutes": 30, "ideas": ideas}, {"title": "Wrap-up"}],
    }


def test_a_facilitator_links_ideas_when_scheduling_and_the_session_returns_them(room, site):
    popular = IdeaFactory(title="Carrier tracking", supporters_count=42)
    quiet = IdeaFactory(title="Dark mode", supporters_count=3)
    response = api_client_for(room.facilitator).post(
        "/api/sessions/", _payload(room, [quiet.pk, popular.pk, quiet.pk]), format="json"
    )
    assert response.status_code == 201, response.content
    first, second = response.json()["agenda"]
    assert [idea["title"] for idea in first["ideas"]] == ["Carrier tracking", "Dark mode"]
    assert first["ideas"][0] == {
        "id": popular.pk,
        "title": "Carrier tracking",
        "supporters": 42,
        "url": f"/ideas/{popular.pk}/",
    }
    assert second["ideas"] == []
    item = AgendaItem.objects.get(pk=first["id"])
    assert set(item.ideas.values_list("pk", flat=True)) == {popular.pk, quiet.pk}

    detail = api_client_for(room.member).get(f"/api/sessions/{response.json()['id']}/")
    assert [idea["id"] for idea in detail.json()["agenda"][0]["ideas"]] == [popular.pk, quiet.pk]


@pytest.mark.parametrize(
    "ideas",
    [[999_999], ["carrier"], "12", [True], [0]],
    ids=["unknown id", "text", "not a list", "boolean", "zero"],
)
def test_bad_idea_ids_are_refused_and_nothing_is_stored(room, site, ideas):
    IdeaFactory()
    before = (Session.objects.count(), AgendaItem.objects.count(), AgendaItem.ideas.through.objects.count())
    response = api_client_for(room.facilitator).post("/api/sessions/", _payload(room, ideas), format="json")
    assert response.status_code == 400
    assert (Session.objects.count(), AgendaItem.objects.count(), AgendaItem.ideas.through.objects.count()) == before


def test_an_unknown_id_among_good_ones_is_named_and_nothing_is_stored(room, site):
    good = IdeaFactory()
    response = api_client_for(room.facilitator).post(
        "/api/sessions/", _payload(room, [good.pk, 777_777]), format="json"
    )
    assert response.status_code == 400
    assert "777777" in response.content.decode()
    assert not Session.objects.filter(title="Roadmap review").exists()


def test_a_facilitator_cannot_link_an_idea_they_may_not_see(room, site):
    pending = IdeaFactory(status=Idea.Status.PENDING, published_at=None)
    response = api_client_for(room.facilitator).post("/api/sessions/", _payload(room, [pending.pk]), format="json")
    assert response.status_code == 400
    assert not Session.objects.filter(title="Roadmap review").exists()


def test_a_product_manager_may_link_an_unpublished_idea_but_members_do_not_see_it(room, site):
    pm = UserFactory(roles=[Role.PRODUCT_MANAGER], is_staff=True)
    pending = IdeaFactory(status=Idea.Status.PENDING, published_at=None, title="Secret pending idea")
    public = IdeaFactory(title="Public idea")
    response = api_client_for(pm).post("/api/sessions/", _payload(room, [pending.pk, public.pk]), format="json")
    assert response.status_code == 201
    assert {i["title"] for i in response.json()["agenda"][0]["ideas"]} == {"Secret pending idea", "Public idea"}
    as_member = api_client_for(room.member).get(f"/api/sessions/{response.json()['id']}/").json()
    assert [i["title"] for i in as_member["agenda"][0]["ideas"]] == ["Public idea"]


def test_members_and_outsiders_cannot_schedule_sessions_with_ideas(room, site):
    idea = IdeaFactory()
    for user, status in [(room.member, 403), (room.outsider, 403), (None, 403)]:
        response = api_client_for(user).post("/api/sessions/", _payload(room, [idea.pk]), format="json")
        assert response.status_code == status
    assert not Session.objects.filter(title="Roadmap review").exists()


def test_the_session_page_live_room_and_minutes_show_linked_ideas(room, site):
    idea = IdeaFactory(title="Supplier risk scores", supporters_count=17)
    room.agenda[1].ideas.add(idea)
    client = logged_in_client(room.member)
    page = client.get(f"/boards/sessions/{room.session.pk}/").content.decode()
    assert "Supplier risk scores" in page
    assert f"/ideas/{idea.pk}/" in page
    assert "17 supporters" in page
    live = client.get(f"/boards/sessions/{room.session.pk}/live/")
    agenda = live.context["config"]["agenda"]
    assert agenda[1]["ideas"] == [
        {"id": idea.pk, "title": "Supplier risk scores", "supporters": 17, "url": f"/ideas/{idea.pk}/"}
    ]
    assert agenda[0]["ideas"] == []
    Session.objects.filter(pk=room.session.pk).update(state=Session.State.ENDED)
    minutes = client.get(f"/boards/sessions/{room.session.pk}/minutes/").content.decode()
    assert "Supplier risk scores" in minutes
    pdf = client.get(f"/boards/sessions/{room.session.pk}/minutes.pdf")
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")


@pytest.fixture
def pm(site):
    roles_sync()
    return UserFactory(roles=[Role.PRODUCT_MANAGER], is_staff=True)


def test_the_admin_picker_offers_the_most_supported_ideas_overall_and_per_tier(room, pm):
    IdeaFactory(title="Top overall", supporters_count=90)
    silver_favourite = IdeaFactory(title="Silver favourite", supporters_count=5)
    silver = OrganisationFactory(tier="silver")
    for _ in range(3):
        SupportFactory(idea=silver_favourite, user=UserFactory(organisation=silver))
    IdeaFactory(title="Archived idea", status=Idea.Status.ARCHIVED, supporters_count=500)
    page = logged_in_client(pm).get("/cms/board_agenda_items/new/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Most supported overall" in html
    assert "Most supported by Silver customers" in html
    silver_list = html.split("Most supported by Silver customers")[1].split("</fieldset>")[0]
    assert "Silver favourite" in silver_list
    assert "(3 / 5 supporters)" in silver_list
    assert "Top overall" not in silver_list
    assert "Top overall" in html.split("Most supported overall")[1].split("</fieldset>")[0]
    assert "Archived idea" not in html
    assert "boards/idea_picker.js" in html
    assert "Search ideas by title" in html


def test_linking_ideas_in_the_admin_stores_them(room, pm):
    idea = IdeaFactory(title="Carrier tracking")
    response = logged_in_client(pm).post(
        "/cms/board_agenda_items/new/",
        {"session": room.session.pk, "order": 9, "title": "Tracking", "duration_minutes": 20, "ideas": [idea.pk]},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    item = AgendaItem.objects.get(title="Tracking")
    assert list(item.ideas.all()) == [idea]
    edit = logged_in_client(pm).get(f"/cms/board_agenda_items/edit/{item.pk}/").content.decode()
    assert f'value="{idea.pk}" checked' in edit


def test_an_unknown_idea_in_the_admin_is_a_form_error_and_nothing_is_stored(room, pm):
    item = AgendaItemFactory(session=room.session, order=7, title="Keep me")
    kept = IdeaFactory()
    item.ideas.add(kept)
    response = logged_in_client(pm).post(
        f"/cms/board_agenda_items/edit/{item.pk}/",
        {"session": room.session.pk, "order": 7, "title": "Renamed", "duration_minutes": 20, "ideas": [987_654]},
    )
    assert response.status_code == 200
    assert "There is no idea you may link with the id 987654" in response.content.decode()
    item.refresh_from_db()
    assert item.title == "Keep me"
    assert list(item.ideas.all()) == [kept]


def test_the_admin_form_refuses_ideas_its_user_may_not_see(room, pm):
    from boards.wagtail_hooks import AgendaItemViewSet

    pending = IdeaFactory(status=Idea.Status.PENDING, published_at=None)
    form_class = AgendaItemViewSet("board_agenda_items").get_form_class()
    data = {"session": room.session.pk, "order": 8, "title": "Pending", "duration_minutes": 20, "ideas": [pending.pk]}
    as_staff_facilitator = form_class(data=data, for_user=room.facilitator)
    assert not as_staff_facilitator.is_valid()
    assert "ideas" in as_staff_facilitator.errors
    assert form_class(data=data, for_user=pm).is_valid()
