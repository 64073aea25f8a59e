"""Each process keeps the campaigns it has read (``ideas.selectors.campaign_kept``), and a changed campaign is read
again at once: by the selector, and so by the next support through the API."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from cocreate.models import User
from ideas.models import IdeaCampaignPage
from ideas.selectors import campaign_kept
from tests.conftest import api_client_for
from tests.ideas.factories import IdeaFactory, campaign_create


def test_a_kept_campaign_costs_no_query_until_a_page_changes(site):
    campaign = campaign_create(parent=site)
    with CaptureQueriesContext(connection) as queries:
        first = campaign_kept(campaign_id=campaign.pk)
        again = campaign_kept(campaign_id=campaign.pk)
    assert (first, again, len(queries)) == (campaign, campaign, 1)
    campaign.title = "Renamed"
    campaign.save_revision().publish()
    with CaptureQueriesContext(connection) as queries:
        renamed = campaign_kept(campaign_id=campaign.pk)
    assert (renamed.title if renamed else None, len(queries)) == ("Renamed", 1)


def test_an_unknown_campaign_is_none(site):
    assert campaign_kept(campaign_id=2**62) is None


def test_a_support_costs_the_same_queries_whoever_supports_which_idea(site, customer, other_customer):
    campaign = campaign_create(parent=site)
    first, second = IdeaFactory(campaign=campaign), IdeaFactory(campaign=campaign)
    counts = []
    for user, idea in ((customer, first), (other_customer, second), (customer, second)):
        fresh = User.objects.get(pk=user.pk)  # as each request's authentication loads it
        with CaptureQueriesContext(connection) as queries:
            response = api_client_for(fresh).post(f"/api/ideas/{idea.pk}/support/", {}, format="json")
        assert response.status_code == 201
        counts.append(len(queries))
    # The first support also reads the campaign; later ones: the idea, the roles, the support itself (and, off
    # PostgreSQL, the co-creator check, the count and the follow).
    assert counts[1] == counts[2] == counts[0] - 1, counts


def test_a_campaign_closed_to_other_organisations_refuses_their_next_support(site, customer, other_customer):
    campaign = campaign_create(parent=site)
    idea, later = IdeaFactory(campaign=campaign), IdeaFactory(campaign=campaign)
    assert api_client_for(other_customer).post(f"/api/ideas/{idea.pk}/support/", {}, format="json").status_code == 201
    campaign.participation = IdeaCampaignPage.Participation.ORGANISATIONS
    campaign.organisations.add(customer.organisation)
    campaign.save_revision().publish()
    refused = api_client_for(other_customer).post(f"/api/ideas/{later.pk}/support/", {}, format="json")
    allowed = api_client_for(customer).post(f"/api/ideas/{later.pk}/support/", {}, format="json")
    assert (refused.status_code, allowed.status_code) == (403, 201)


def test_a_changed_milestone_applies_to_the_next_support(site, customer):
    campaign = campaign_create(parent=site)
    first, second = IdeaFactory(campaign=campaign), IdeaFactory(campaign=campaign)
    assert api_client_for(customer).post(f"/api/ideas/{first.pk}/support/", {}, format="json").status_code == 201
    campaign.milestones = [("milestone", {"supporters": 1, "days": 10}), ("milestone", {"supporters": 5, "days": 5})]
    campaign.save_revision().publish()
    assert api_client_for(customer).post(f"/api/ideas/{second.pk}/support/", {}, format="json").status_code == 201
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.milestones_reached, second.milestones_reached) == (0, 1)
