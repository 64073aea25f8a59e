from __future__ import annotations

import threading

import pytest
from django.conf import settings
from django.db import connection, connections

from cocreate.errors import ConflictError
from cocreate.roles import Role
from ideas import services
from ideas.models import Idea, Support
from tests.factories import UserFactory
from tests.ideas.factories import IdeaFactory, campaign_create

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not settings.IS_POSTGRES, reason="needs PostgreSQL row locks and real concurrent connections"),
]


def run_concurrently(calls):
    barrier = threading.Barrier(len(calls))
    errors: list[BaseException] = []

    def worker(call):
        try:
            barrier.wait()
            call()
        except ConflictError as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def test_64_concurrent_supporters_including_the_same_user_twice_leave_an_exact_count(site):
    campaign = campaign_create(parent=site)
    idea = IdeaFactory(campaign=campaign)
    users = [UserFactory(roles=[Role.CUSTOMER]) for _ in range(63)]
    calls = [lambda user=user: services.support_add(idea=idea, user=user) for user in users]
    calls.append(lambda: services.support_add(idea=idea, user=users[0]))  # the same user twice at once
    connection.close()

    errors = run_concurrently(calls)

    idea.refresh_from_db()
    assert errors == []
    assert Support.objects.filter(idea=idea).count() == 63
    assert idea.supporters_count == 63


def test_concurrent_support_and_withdraw_keep_the_count_equal_to_the_rows(site):
    idea = IdeaFactory(campaign=campaign_create(parent=site))
    users = [UserFactory(roles=[Role.CUSTOMER]) for _ in range(32)]
    for user in users[:16]:
        services.support_add(idea=idea, user=user)
    calls = [lambda user=user: services.support_withdraw(idea=idea, user=user) for user in users[:16]]
    calls += [lambda user=user: services.support_add(idea=idea, user=user) for user in users[16:]]
    connection.close()

    run_concurrently(calls)

    idea.refresh_from_db()
    assert idea.supporters_count == Support.objects.filter(idea=idea, counts=True).count() == 16


def test_crossing_a_milestone_concurrently_extends_the_deadline_once(site):
    campaign = campaign_create(
        parent=site,
        milestones=[("milestone", {"supporters": 10, "days": 5}), ("milestone", {"supporters": 1000, "days": 30})],
    )
    idea = IdeaFactory(campaign=campaign)
    deadline = idea.deadline
    users = [UserFactory(roles=[Role.CUSTOMER]) for _ in range(20)]
    connection.close()

    run_concurrently([lambda user=user: services.support_add(idea=idea, user=user) for user in users])

    idea = Idea.objects.get(pk=idea.pk)
    assert idea.supporters_count == 20
    assert idea.milestones_reached == 1
    assert (idea.deadline - deadline).days == 30
