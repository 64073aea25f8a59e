"""Every remaining page and API call, per role: who gets through, and that nothing changes for the others."""

from __future__ import annotations

import pytest
from django.test import Client

from ideas.models import Comment, Follow, Idea, Report
from tests.conftest import api_client_for, logged_in_client
from tests.ideas.factories import IdeaFactory, campaign_create

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "customer", "board_member", "product_manager", "finance", "superuser"]
TAKES_PART = {"customer", "board_member", "product_manager", "superuser"}


@pytest.fixture
def people(customer, board_member, product_manager, finance, superuser):
    return {
        "anonymous": None,
        "customer": customer,
        "board_member": board_member,
        "product_manager": product_manager,
        "finance": finance,
        "superuser": superuser,
    }


def client_for(user):
    return Client() if user is None else logged_in_client(user)


@pytest.mark.parametrize("role", ROLES)
def test_commenting_through_the_page(site, people, role):
    idea = IdeaFactory()
    response = client_for(people[role]).post(f"/ideas/{idea.pk}/comment/", {"body": "Hello"})
    assert response.status_code == 302
    assert Comment.objects.count() == (1 if role in TAKES_PART else 0)


@pytest.mark.parametrize("role", ROLES)
def test_following_and_reporting_need_a_login(site, people, role):
    idea = IdeaFactory()
    client = client_for(people[role])
    client.post(f"/ideas/{idea.pk}/follow/", {"follow": "1"})
    client.post(f"/ideas/{idea.pk}/report/", {"reason": "Spam"})
    assert Follow.objects.filter(idea=idea).exclude(user=idea.creator).count() == (0 if role == "anonymous" else 1)
    assert Report.objects.count() == (0 if role == "anonymous" else 1)


@pytest.mark.parametrize("role", ROLES)
def test_only_the_creator_reworks_an_idea_that_needs_work(site, people, role):
    idea = IdeaFactory(status=Idea.Status.NEEDS_WORK, creator=people["customer"], published_at=None)
    response = client_for(people[role]).get(f"/ideas/{idea.pk}/edit/")
    expected = {"anonymous": 302, "customer": 200, "board_member": 404, "finance": 404}.get(role, 403)
    assert response.status_code == expected


@pytest.mark.parametrize("role", ROLES)
def test_only_product_managers_triage(site, people, role):
    idea = IdeaFactory()
    client_for(people[role]).post(f"/ideas/{idea.pk}/triage/", {"owner_department": "marketing", "impact": 5})
    idea.refresh_from_db()
    assert (idea.owner_department == "marketing") == (role in {"product_manager", "superuser"})


@pytest.mark.parametrize("role", ROLES)
def test_everyone_reads_campaigns_similar_ideas_and_the_ideas_index(site, people, role):
    campaign_create(parent=site)
    IdeaFactory(title="Pallet scanner app")
    api = api_client_for(people[role])
    assert api.get("/api/campaigns/").status_code == 200
    assert api.get("/api/ideas/similar/?q=pallet").json()["results"][0]["title"] == "Pallet scanner app"
    assert client_for(people[role]).get("/ideas/").status_code in (200, 302)


@pytest.mark.parametrize("role", ROLES)
def test_writing_to_read_only_endpoints_is_refused(site, people, role):
    api = api_client_for(people[role])
    assert api.post("/api/campaigns/", {}, format="json").status_code in (403, 405)
    assert api.post("/api/ideas/similar/", {}, format="json").status_code in (403, 405)
