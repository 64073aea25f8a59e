from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from ideas import services, tasks
from ideas.models import Idea, Notification
from tests.factories import UserFactory
from tests.ideas.factories import IdeaFactory, campaign_create

pytestmark = pytest.mark.django_db


def small_campaign(site):
    return campaign_create(
        parent=site,
        milestones=[
            ("milestone", {"supporters": 2, "days": 10}),
            ("milestone", {"supporters": 3, "days": 30}),
            ("milestone", {"supporters": 4, "days": 5}),
        ],
    )


def customers(n):
    from cocreate.roles import Role

    return [UserFactory(roles=[Role.CUSTOMER]) for _ in range(n)]


def test_reaching_a_milestone_extends_the_deadline_and_tells_creator_and_followers(site):
    idea = IdeaFactory(campaign=small_campaign(site), deadline=timezone.now() + timedelta(days=10))
    before = idea.deadline
    first, second = customers(2)
    services.support_add(idea=idea, user=first)
    services.support_add(idea=idea, user=second)
    idea.refresh_from_db()
    assert idea.milestones_reached == 1
    assert idea.deadline - before == timedelta(days=30)
    notified = set(Notification.objects.filter(kind="milestone").values_list("user_id", flat=True))
    assert notified == {idea.creator_id, first.pk, second.pk}


def test_reaching_the_last_milestone_puts_the_idea_in_review(site):
    idea = IdeaFactory(campaign=small_campaign(site))
    for user in customers(4):
        services.support_add(idea=idea, user=user)
    idea.refresh_from_db()
    assert idea.status == Idea.Status.IN_REVIEW
    assert idea.milestones_reached == 3
    assert idea.deadline is None


def test_withdrawing_below_a_milestone_does_not_take_the_time_back(site):
    idea = IdeaFactory(campaign=small_campaign(site))
    users = customers(2)
    for user in users:
        services.support_add(idea=idea, user=user)
    idea.refresh_from_db()
    deadline = idea.deadline
    services.support_withdraw(idea=idea, user=users[0])
    services.support_add(idea=idea, user=users[0])
    idea.refresh_from_db()
    assert idea.deadline == deadline
    assert idea.milestones_reached == 1


def test_the_expiry_job_expires_passed_deadlines_once_and_is_idempotent(site):
    late = IdeaFactory(deadline=timezone.now() - timedelta(minutes=1))
    on_time = IdeaFactory(deadline=timezone.now() + timedelta(days=1))
    assert tasks.expire_ideas() == 1
    assert tasks.expire_ideas() == 0
    late.refresh_from_db()
    on_time.refresh_from_db()
    assert late.status == Idea.Status.EXPIRED
    assert on_time.status == Idea.Status.PUBLISHED
    assert Notification.objects.filter(user=late.creator, kind="status").count() == 1


def test_an_expired_idea_can_be_submitted_again_without_its_supporters(site, customer):
    idea = IdeaFactory(creator=customer, status=Idea.Status.EXPIRED, supporters_count=40)
    again = services.idea_submit(
        campaign=idea.campaign,
        creator=customer,
        title=idea.title,
        summary=idea.summary,
        description=idea.description,
        terms_accepted=True,
        resubmitted_from=idea,
    )
    assert again.resubmitted_from == idea
    assert again.supporters_count == 0
    assert again.status == "pending"


def test_the_first_milestone_is_timestamped_once_and_later_milestones_keep_it(site):
    idea = IdeaFactory(campaign=small_campaign(site))
    first, second, third = customers(3)
    services.support_add(idea=idea, user=first)
    idea.refresh_from_db()
    assert idea.first_milestone_at is None
    before = timezone.now()
    services.support_add(idea=idea, user=second)
    idea.refresh_from_db()
    reached_at = idea.first_milestone_at
    assert reached_at is not None
    assert before <= reached_at <= timezone.now()
    services.support_add(idea=idea, user=third)
    idea.refresh_from_db()
    assert (idea.milestones_reached, idea.first_milestone_at) == (2, reached_at)
