from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from cocreate.models import Organisation
from ideas.models import DEFAULT_MILESTONES, Idea
from ideas.selectors import most_supported_ideas, public_figures
from tests.factories import OrganisationFactory, UserFactory
from tests.ideas.factories import IdeaFactory, SupportFactory, campaign_create

pytestmark = pytest.mark.django_db


def test_a_campaign_has_lego_milestones_by_default(site):
    campaign = campaign_create(parent=site)
    assert campaign.milestone_list() == DEFAULT_MILESTONES
    assert campaign.resubmit_delay_hours == 24
    assert campaign.moderation_required is True


def test_a_user_supports_an_idea_only_once_by_database_constraint(site):
    support = SupportFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        SupportFactory(idea=support.idea, user=support.user)


def test_a_merged_idea_must_name_its_target(site):
    idea = IdeaFactory()
    idea.status = Idea.Status.MERGED
    with pytest.raises(IntegrityError), transaction.atomic():
        idea.save()


def test_public_figures_count_published_ideas_and_distinct_counted_supporters(site):
    published = IdeaFactory()
    other = IdeaFactory(status=Idea.Status.IN_REVIEW)
    IdeaFactory(status=Idea.Status.PENDING)
    fan = UserFactory()
    SupportFactory(idea=published, user=fan)
    SupportFactory(idea=other, user=fan)
    SupportFactory(idea=published)
    SupportFactory(idea=published, user=published.creator, counts=False)
    assert public_figures() == (2, 2)


def test_most_supported_ideas_by_tier_counts_only_that_tiers_supporters(site):
    gold = OrganisationFactory(tier=Organisation.Tier.GOLD)
    bronze = OrganisationFactory(tier=Organisation.Tier.BRONZE)
    loved_by_gold = IdeaFactory(supporters_count=1)
    loved_by_bronze = IdeaFactory(supporters_count=3)
    SupportFactory(idea=loved_by_gold, user=UserFactory(organisation=gold))
    for _ in range(3):
        SupportFactory(idea=loved_by_bronze, user=UserFactory(organisation=bronze))

    assert [i.pk for i in most_supported_ideas(tier="gold")] == [loved_by_gold.pk]
    assert [i.pk for i in most_supported_ideas()] == [loved_by_bronze.pk, loved_by_gold.pk]
    top = most_supported_ideas(tier="bronze", limit=1)
    assert top[0].tier_supporters == 3
