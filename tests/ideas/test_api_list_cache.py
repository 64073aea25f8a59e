"""The API idea list serves pages from the cache, and every write that changes a listed figure shows in the next
response; viewers who see different ideas never get each other's page."""

from __future__ import annotations

from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ideas import list_cache, services
from ideas.models import Idea
from tests.conftest import api_client_for
from tests.factories import UserFactory
from tests.ideas.factories import IdeaFactory, SupportFactory

LIST = "/api/ideas/?ordering=-supporters"


def listed(client, url=LIST):
    return {item["id"]: item for item in client.get(url).json()["results"]}


def test_a_support_shows_in_the_next_response(site, customer):
    idea = IdeaFactory()
    visitor = api_client_for(None)
    assert listed(visitor)[idea.pk]["supporters"] == 0
    response = api_client_for(customer).post(f"/api/ideas/{idea.pk}/support/", {}, format="json")
    assert response.status_code == 201
    assert listed(visitor)[idea.pk]["supporters"] == 1


def test_a_new_idea_shows_in_the_next_responses_rows_and_total(site, product_manager):
    first = IdeaFactory()
    pending = IdeaFactory(campaign=first.campaign, status=Idea.Status.PENDING)
    visitor = api_client_for(None)
    assert visitor.get(LIST).json()["count"] == 1
    services.idea_moderate(idea=pending, moderator=product_manager, decision="publish")
    body = visitor.get(LIST).json()
    assert body["count"] == len(body["results"]) == 2


def test_a_withdrawal_shows_in_the_next_response(site, customer):
    idea = IdeaFactory()
    supporter = api_client_for(customer)
    supporter.post(f"/api/ideas/{idea.pk}/support/", {}, format="json")
    visitor = api_client_for(None)
    assert listed(visitor)[idea.pk]["supporters"] == 1
    assert supporter.delete(f"/api/ideas/{idea.pk}/support/").status_code == 200
    assert listed(visitor)[idea.pk]["supporters"] == 0


def test_a_status_change_shows_in_the_next_response(site, product_manager):
    idea = IdeaFactory()
    visitor = api_client_for(None)
    assert listed(visitor)[idea.pk]["status"] == "published"
    response = api_client_for(product_manager).post(
        f"/api/ideas/{idea.pk}/status/", {"status": "in_review"}, format="json"
    )
    assert response.status_code == 200
    assert listed(visitor)[idea.pk]["status"] == "in_review"


def test_a_merge_shows_in_the_next_response(site, product_manager):
    source, target = IdeaFactory(), IdeaFactory()
    SupportFactory(idea=source)
    services.support_recount(idea=source)
    visitor = api_client_for(None)
    before = listed(visitor)
    assert (before[source.pk]["supporters"], before[target.pk]["supporters"]) == (1, 0)
    services.idea_merge(source=source, target=target, actor=product_manager)
    after = listed(visitor)
    assert source.pk not in after
    assert after[target.pk]["supporters"] == 1


def test_a_comment_and_a_new_tag_show_in_the_next_response(site, customer):
    idea = IdeaFactory()
    visitor = api_client_for(None)
    assert (listed(visitor)[idea.pk]["comments"], listed(visitor)[idea.pk]["tags"]) == (0, [])
    api_client_for(customer).post(f"/api/ideas/{idea.pk}/comments/", {"body": "Yes please"}, format="json")
    idea.tags.add("forklifts")
    assert (listed(visitor)[idea.pk]["comments"], listed(visitor)[idea.pk]["tags"]) == (1, ["forklifts"])


def test_a_write_replaces_the_version_again_when_it_commits(site, customer, django_capture_on_commit_callbacks):
    """A page built between the write and its commit read the old rows; the version it was stored under must
    not survive the commit."""
    idea = IdeaFactory()
    with django_capture_on_commit_callbacks(execute=True):
        services.support_add(idea=idea, user=customer)
        during = list_cache.idea_lists_version()
    assert list_cache.idea_lists_version() != during


def test_viewers_who_see_different_ideas_never_get_each_others_page(site, customer, other_customer, product_manager):
    public = IdeaFactory()
    pending = IdeaFactory(status=Idea.Status.PENDING, creator=customer)
    visitor, creator, other, manager = (api_client_for(u) for u in (None, customer, other_customer, product_manager))
    # Each viewer twice, interleaved, so that every second request could only be wrong by reading another's page.
    for _ in range(2):
        assert set(listed(manager)) == {public.pk, pending.pk}
        assert set(listed(visitor)) == {public.pk}
        assert set(listed(creator)) == {public.pk, pending.pk}
        assert set(listed(other)) == {public.pk}
    assert list_cache.viewer_class(customer) == f"user:{customer.pk}"
    assert list_cache.viewer_class(other_customer) == "public"


def test_a_customer_who_sees_only_public_ideas_shares_the_visitors_page(site, other_customer):
    IdeaFactory()
    api_client_for(None).get(LIST)
    with CaptureQueriesContext(connection) as queries:
        api_client_for(other_customer).get(LIST)
    # Roles and whether they see more than the public ideas; the page itself came from the visitor's.
    assert len(queries) == 2


def test_mine_is_never_shared(site, customer, other_customer):
    mine = IdeaFactory()
    SupportFactory(idea=mine, user=customer)
    assert set(listed(api_client_for(customer), "/api/ideas/?mine=supported")) == {mine.pk}
    assert set(listed(api_client_for(other_customer), "/api/ideas/?mine=supported")) == set()


def test_the_language_of_the_page_is_part_of_its_key(site):
    idea = IdeaFactory()
    visitor = api_client_for(None)
    english = listed(visitor)[idea.pk]["status_label"]
    chinese = visitor.get(LIST, HTTP_ACCEPT_LANGUAGE="zh-hans").json()["results"][0]["status_label"]
    assert english == "Gathering support"
    assert chinese != english


def test_a_cached_page_reads_exactly_as_a_fresh_one_with_the_requests_own_links(site):
    for _ in range(30):
        IdeaFactory()
    visitor = api_client_for(None)
    url = "/api/ideas/?ordering=-supporters&page=2&utm=x"
    fresh = visitor.get(url)
    cached = visitor.get(url)
    assert fresh.content == cached.content
    assert fresh["Content-Type"] == "application/json"
    body = cached.json()
    assert body["count"] == 30
    assert len(body["results"]) == 5
    assert body["next"] is None
    assert body["previous"] == "http://testserver/api/ideas/?ordering=-supporters&utm=x"
    # The same page asked for with other extra parameters shares the stored results, not the links.
    other = visitor.get("/api/ideas/?page=2&ordering=-supporters").json()
    assert other["previous"] == "http://testserver/api/ideas/?ordering=-supporters"
    assert other["results"] == body["results"]


def test_warm_and_cold_pages_cost_a_constant_number_of_queries(site):
    for _ in range(3):
        IdeaFactory().tags.add("a", "b")
    visitor = api_client_for(None)
    counts = []
    for more in (0, 40):
        for _ in range(more):
            IdeaFactory(creator=UserFactory()).tags.add("c")
        cache.clear()  # cold: no page, no total
        with CaptureQueriesContext(connection) as cold:
            first = visitor.get(LIST)
        with CaptureQueriesContext(connection) as warm:
            second = visitor.get(LIST)
        assert first.content == second.content
        counts.append((len(cold), len(warm)))
    assert counts == [(3, 0), (3, 0)]  # cold: the total, the page, the page's tags; warm: none


def test_page_numbers_that_are_not_plain_numbers_are_answered_without_the_cache(site):
    for _ in range(30):
        IdeaFactory()
    visitor = api_client_for(None)
    assert visitor.get(LIST + "&page=%C2%B2").status_code == 404  # a superscript two is a digit, not a number
    last = visitor.get(LIST + "&page=last").json()
    assert last["results"] == visitor.get(LIST + "&page=2").json()["results"]
    assert len(last["results"]) == 5
