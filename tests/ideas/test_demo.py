from __future__ import annotations

from unittest import mock

import pytest

from cocreate.demo import seed_core
from ideas.demo import seed_demo
from ideas.models import Idea, IdeaCampaignPage, Support

pytestmark = pytest.mark.django_db


def test_the_demo_has_ideas_in_each_state_and_is_idempotent(site, django_capture_on_commit_callbacks):
    people = seed_core()
    with (
        mock.patch("rewards.services.agreement_draft_open", create=True) as opened,
        django_capture_on_commit_callbacks(execute=True),
    ):
        lines = seed_demo(people=people)
    assert lines
    statuses = set(Idea.objects.values_list("status", flat=True))
    assert statuses >= {"published", "pending", "needs_work", "in_review", "commercialised", "expired", "merged"}
    for idea in Idea.objects.all():
        assert idea.supporters_count == Support.objects.filter(idea=idea, counts=True).count()
    assert opened.call_count == 1
    assert seed_demo(people=people) == ["demo campaign already present"]
    assert IdeaCampaignPage.objects.count() == 1
