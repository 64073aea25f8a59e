from __future__ import annotations

import pytest
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import QuerySet
from django.test.utils import CaptureQueriesContext

from ideas.models import Comment, Idea, Support
from tests.conftest import api_client_for
from tests.ideas.factories import IdeaFactory, SupportFactory, campaign_create

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "customer", "board_member", "product_manager", "finance", "superuser"]


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


def new_idea_body(target, **overrides):
    body = {
        "campaign": target.pk,
        "title": "Cold-chain sensor",
        "summary": "Know when a pallet got warm.",
        "description": "<p>Details</p>",
        "terms_accepted": True,
        "tags": ["logistics"],
    }
    body.update(overrides)
    return body


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("anonymous", 403),
        ("customer", 201),
        ("board_member", 201),
        ("product_manager", 201),
        ("finance", 403),
        ("superuser", 201),
    ],
)
def test_who_may_submit_an_idea(site, people, role, expected):
    campaign = campaign_create(parent=site)
    response = api_client_for(people[role]).post("/api/ideas/", new_idea_body(campaign), format="json")
    assert response.status_code == expected, response.content
    assert Idea.objects.count() == (1 if expected == 201 else 0)
    if expected == 201:
        assert response.json()["status"] == "pending"
        assert response.json()["supporters"] == 0


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"title": ""}, 400),
        ({"title": "x" * 500}, 400),
        ({"terms_accepted": False}, 400),
        ({"campaign": 999999}, 404),
        ({"campaign": "abc"}, 400),
        ({"tags": "not-a-list"}, 400),
        ({"description": "<script></script><p> </p>"}, 400),
    ],
)
def test_bad_submissions_get_a_json_error_and_change_nothing(site, customer, body, expected):
    campaign = campaign_create(parent=site)
    response = api_client_for(customer).post("/api/ideas/", new_idea_body(campaign, **body), format="json")
    assert response.status_code == expected
    assert "detail" in response.json() or isinstance(response.json(), dict)
    assert Idea.objects.count() == 0


def test_a_double_submit_is_a_conflict(site, customer):
    campaign = campaign_create(parent=site)
    client = api_client_for(customer)
    assert client.post("/api/ideas/", new_idea_body(campaign), format="json").status_code == 201
    response = client.post("/api/ideas/", new_idea_body(campaign), format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "duplicate"


def test_the_list_shows_public_ideas_with_sanitized_html_and_hides_others_pending_ones(site, customer, other_customer):
    IdeaFactory(description='<p>ok<script>alert(1)</script><a href="javascript:x()">l</a></p>', supporters_count=3)
    IdeaFactory(status=Idea.Status.PENDING, creator=other_customer)
    mine = IdeaFactory(status=Idea.Status.PENDING, creator=customer)
    anonymous = api_client_for(None).get("/api/ideas/?ordering=-supporters").json()
    assert anonymous["count"] == 1
    item = anonymous["results"][0]
    assert {"supporters", "deadline", "campaign", "description_html"} <= set(item)
    assert "script" not in item["description_html"]
    assert "javascript" not in item["description_html"]
    own = api_client_for(customer).get("/api/ideas/").json()
    assert {i["id"] for i in own["results"]} >= {mine.pk}
    assert own["count"] == 2


def test_the_list_uses_a_constant_number_of_queries(site):
    for _ in range(3):
        IdeaFactory().tags.add("a", "b")
    from django.core.cache import cache

    client = api_client_for(None)
    with CaptureQueriesContext(connection) as small:
        client.get("/api/ideas/?ordering=-supporters")
    for _ in range(20):
        IdeaFactory().tags.add("c")
    cache.clear()  # the total is cached for half a minute; measure the uncached path both times
    with CaptureQueriesContext(connection) as large:
        client.get("/api/ideas/?ordering=-supporters")
    assert len(large) == len(small) == 3  # count, page, tags of the page
    with CaptureQueriesContext(connection) as cached:
        client.get("/api/ideas/?ordering=-supporters")
    assert len(cached) == 0  # the whole page comes from the cache (ideas.list_cache)


def test_list_count_key_names_what_the_total_depends_on(site, customer, other_customer, product_manager):
    """The API list caches its total under a key built from the viewer and the filters instead of the count's
    SQL: two lists share a key exactly when their count queries are the same."""
    from rest_framework.test import APIRequestFactory, force_authenticate

    from ideas.api import IdeaListView

    IdeaFactory(creator=customer).tags.add("cold")
    campaign = IdeaFactory().campaign
    queries = [
        "",
        "ordering=-supporters",
        "ordering=-created",
        "status=published",
        "status=pending",
        f"campaign={campaign.pk}",
        "tag=cold",
        "tag=COLD",
        "mine=created",
        "mine=supported",
        "q=sensor",
        "q=%20sensor%20",
        f"campaign={campaign.pk}&tag=cold&status=published",
    ]
    seen: dict[str, str] = {}
    for user in (None, customer, other_customer, product_manager):
        for query in queries:
            request = APIRequestFactory().get(f"/api/ideas/?{query}")
            if user is not None:
                force_authenticate(request, user=user)
            view = IdeaListView()
            view.setup(view.initialize_request(request))
            view.format_kwarg = None
            ideas = view.get_queryset()
            if not isinstance(ideas, QuerySet):  # search results: counted by the backend, never cached
                continue
            try:
                sql = str(ideas.order_by().query)
            except EmptyResultSet:  # an empty queryset (.none()) has no SQL
                sql = "none"
            assert view.count_key is not None
            assert seen.setdefault(view.count_key, sql) == sql, (user, query)
    # And no needless keys: apart from the empty lists (a visitor asking for "mine"), each count has one key.
    sqls: dict[str, str] = {}
    for key, sql in seen.items():
        assert sql == "none" or sqls.setdefault(sql, key) == key, "two keys for the same count"


@pytest.mark.parametrize("query", ["ordering=bogus", "status=nope", "campaign=x", "campaign=%C2%B2"])
def test_bad_list_parameters_are_a_400(site, query):
    assert api_client_for(None).get(f"/api/ideas/?{query}").status_code == 400


def test_filters_and_full_text_search(site):
    campaign = campaign_create(parent=site)
    wanted = IdeaFactory(campaign=campaign, title="Refrigerated pallet sensor")
    wanted.tags.add("cold")
    IdeaFactory(campaign=campaign, title="Invoice export")
    IdeaFactory(status=Idea.Status.IN_REVIEW, campaign=campaign)
    client = api_client_for(None)
    assert [i["id"] for i in client.get("/api/ideas/?q=refrigerated").json()["results"]] == [wanted.pk]
    assert [i["id"] for i in client.get("/api/ideas/?tag=cold").json()["results"]] == [wanted.pk]
    assert client.get("/api/ideas/?status=in_review").json()["count"] == 1
    assert client.get(f"/api/ideas/?campaign={campaign.pk}").json()["count"] == 3


@pytest.mark.parametrize(
    ("role", "status_code"),
    [
        ("anonymous", 404),
        ("customer", 200),
        ("board_member", 404),
        ("product_manager", 200),
        ("finance", 404),
        ("superuser", 200),
    ],
)
def test_a_pending_idea_is_seen_by_its_creator_and_product_managers_only(site, people, role, status_code):
    idea = IdeaFactory(status=Idea.Status.PENDING, creator=people["customer"])
    assert api_client_for(people[role]).get(f"/api/ideas/{idea.pk}/").status_code == status_code


def test_an_unknown_idea_is_a_json_404(site):
    response = api_client_for(None).get("/api/ideas/999999/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize("pk", [999999, 2**63, 10**30])
def test_supporting_or_withdrawing_an_unknown_idea_is_a_json_404(site, customer, pk):
    client = api_client_for(customer)
    for response in (
        client.post(f"/api/ideas/{pk}/support/", {}, format="json"),
        client.delete(f"/api/ideas/{pk}/support/"),
    ):
        assert (response.status_code, response.json()["code"]) == (404, "not_found")


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("anonymous", 403),
        ("customer", 201),
        ("board_member", 201),
        ("product_manager", 201),
        ("finance", 403),
        ("superuser", 201),
    ],
)
def test_who_may_support(site, people, role, expected):
    idea = IdeaFactory()
    response = api_client_for(people[role]).post(f"/api/ideas/{idea.pk}/support/", {}, format="json")
    assert response.status_code == expected
    assert Support.objects.count() == (1 if expected == 201 else 0)


def test_support_is_idempotent_and_returns_the_count(site, customer):
    idea = IdeaFactory()
    client = api_client_for(customer)
    url = f"/api/ideas/{idea.pk}/support/"
    first = client.post(url, {"importance": "must", "would_buy": True, "quantity": 5}, format="json")
    second = client.post(url, {}, format="json")
    assert (first.status_code, first.json()) == (201, {"supporters": 1, "supported": True})
    assert (second.status_code, second.json()) == (200, {"supporters": 1, "supported": True})
    assert client.delete(url).json() == {"supporters": 0, "supported": False}
    assert client.delete(url).json() == {"supporters": 0, "supported": False}


@pytest.mark.parametrize(
    ("status", "code"), [("pending", 404), ("expired", 409), ("in_review", 409), ("archived", 409)]
)
def test_supporting_an_idea_not_gathering_support_is_refused(site, customer, status, code):
    idea = IdeaFactory(status=status)
    response = api_client_for(customer).post(f"/api/ideas/{idea.pk}/support/", {}, format="json")
    assert response.status_code == code
    assert Support.objects.count() == 0


def test_supporting_a_merged_idea_is_a_conflict(site, customer):
    idea = IdeaFactory(status=Idea.Status.MERGED, merged_into=IdeaFactory())
    response = api_client_for(customer).post(f"/api/ideas/{idea.pk}/support/", {}, format="json")
    assert response.status_code == 409
    assert Support.objects.count() == 0


@pytest.mark.parametrize("body", [{"importance": "urgent"}, {"quantity": 0}, {"quantity": "many"}])
def test_bad_support_options_are_a_400(site, customer, body):
    idea = IdeaFactory()
    response = api_client_for(customer).post(f"/api/ideas/{idea.pk}/support/", body, format="json")
    assert response.status_code == 400
    assert Support.objects.count() == 0


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("anonymous", 403),
        ("customer", 403),  # the creator sees the idea but may not moderate it
        ("board_member", 404),  # others do not learn that a pending idea exists
        ("product_manager", 200),
        ("finance", 404),
        ("superuser", 200),
    ],
)
def test_only_product_managers_moderate(site, people, role, expected):
    idea = IdeaFactory(status=Idea.Status.PENDING, creator=people["customer"], published_at=None, deadline=None)
    response = api_client_for(people[role]).post(
        f"/api/ideas/{idea.pk}/moderate/", {"decision": "publish"}, format="json"
    )
    assert response.status_code == expected
    idea.refresh_from_db()
    assert idea.status == ("published" if expected == 200 else "pending")


def test_moderation_input_errors(site, product_manager):
    idea = IdeaFactory(status=Idea.Status.PENDING)
    client = api_client_for(product_manager)
    url = f"/api/ideas/{idea.pk}/moderate/"
    assert client.post(url, {"decision": "maybe"}, format="json").status_code == 400
    assert client.post(url, {"decision": "reject"}, format="json").status_code == 400
    assert client.post(url, {"decision": "reject", "reason": "Off topic"}, format="json").status_code == 200
    assert client.post(url, {"decision": "publish"}, format="json").status_code == 409
    assert Idea.objects.get().status == "rejected"


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("anonymous", 403),
        ("customer", 403),
        ("board_member", 403),
        ("product_manager", 200),
        ("finance", 403),
        ("superuser", 200),
    ],
)
def test_only_product_managers_change_status(site, people, role, expected):
    idea = IdeaFactory()
    response = api_client_for(people[role]).post(
        f"/api/ideas/{idea.pk}/status/", {"status": "in_review", "reason": "Staff pick"}, format="json"
    )
    assert response.status_code == expected
    assert Idea.objects.get().status == ("in_review" if expected == 200 else "published")


def test_status_moves_outside_the_lifecycle_are_409_and_bad_values_400(site, product_manager):
    idea = IdeaFactory()
    client = api_client_for(product_manager)
    url = f"/api/ideas/{idea.pk}/status/"
    assert client.post(url, {"status": "commercialised"}, format="json").status_code == 409
    assert client.post(url, {"status": "flying"}, format="json").status_code == 400
    assert client.post(url, {"status": "archived"}, format="json").status_code == 400  # needs a reason
    assert Idea.objects.get().status == "published"


def test_commercialising_through_the_api_opens_the_agreement(site, product_manager, django_capture_on_commit_callbacks):
    from unittest import mock

    idea = IdeaFactory(status=Idea.Status.IN_DEVELOPMENT)
    with (
        mock.patch("rewards.services.agreement_draft_open", create=True) as opened,
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = api_client_for(product_manager).post(
            f"/api/ideas/{idea.pk}/status/",
            {"status": "commercialised", "product_codes": ["SKU-9"], "launch_date": "2027-01-15"},
            format="json",
        )
    assert response.status_code == 200
    assert response.json()["product_codes"] == ["SKU-9"]
    assert opened.call_args.kwargs["creator_ids"] == [idea.creator_id]


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("anonymous", 403),
        ("customer", 201),
        ("board_member", 201),
        ("product_manager", 201),
        ("finance", 403),
        ("superuser", 201),
    ],
)
def test_who_may_comment(site, people, role, expected):
    idea = IdeaFactory()
    response = api_client_for(people[role]).post(
        f"/api/ideas/{idea.pk}/comments/", {"body": "Great <b>idea</b>"}, format="json"
    )
    assert response.status_code == expected
    assert Comment.objects.count() == (1 if expected == 201 else 0)


def test_comments_list_and_reply_and_errors(site, customer):
    idea = IdeaFactory()
    client = api_client_for(customer)
    url = f"/api/ideas/{idea.pk}/comments/"
    top = client.post(url, {"body": "Top"}, format="json").json()
    reply = client.post(url, {"body": "Reply", "parent": top["id"]}, format="json").json()
    assert reply["parent"] == top["id"]
    assert client.post(url, {"body": ""}, format="json").status_code == 400
    assert client.post(url, {"body": "x", "parent": 999999}, format="json").status_code == 404
    assert client.post(url, {"body": "x", "kind": "official"}, format="json").status_code == 403
    listed = api_client_for(None).get(url).json()
    assert [c["body_html"] for c in listed["results"]] == ["Top", "Reply"]


def test_comments_are_rate_limited(site, customer):
    idea = IdeaFactory()
    client = api_client_for(customer)
    statuses = [
        client.post(f"/api/ideas/{idea.pk}/comments/", {"body": f"c{i}"}, format="json").status_code for i in range(21)
    ]
    assert statuses[-1] == 429
    assert Comment.objects.count() == 20


def test_campaigns_are_listed(site):
    campaign = campaign_create(parent=site)
    data = api_client_for(None).get("/api/campaigns/").json()
    assert data["results"][0]["id"] == campaign.pk
    assert data["results"][0]["milestones"][0] == {"supporters": 100, "days": 60}


def test_similar_ideas_are_suggested(site):
    IdeaFactory(title="Solar powered forklift charger")
    IdeaFactory(title="Invoice export", status=Idea.Status.PENDING)
    data = api_client_for(None).get("/api/ideas/similar/?q=solar charger").json()
    assert [r["title"] for r in data["results"]] == ["Solar powered forklift charger"]
    assert api_client_for(None).get("/api/ideas/similar/?q=ab").json() == {"results": []}


def test_the_schema_documents_the_ideas_api(site, customer):
    schema = api_client_for(customer).get("/api/schema/?format=json").json()
    for path in [
        "/api/ideas/",
        "/api/ideas/{id}/",
        "/api/ideas/{id}/support/",
        "/api/ideas/{id}/comments/",
        "/api/ideas/{id}/moderate/",
        "/api/ideas/{id}/status/",
        "/api/campaigns/",
    ]:
        assert path in schema["paths"], path


def test_mine_lists_the_ideas_i_support(site, customer):
    supported = IdeaFactory()
    IdeaFactory()
    SupportFactory(idea=supported, user=customer)
    data = api_client_for(customer).get("/api/ideas/?mine=supported").json()
    assert [i["id"] for i in data["results"]] == [supported.pk]
