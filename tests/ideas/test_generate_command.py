from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db.models import Count
from django.utils import timezone

from ideas.models import Idea, Support
from ideas.selectors import ideas_search

pytestmark = pytest.mark.django_db


def test_the_generator_inserts_ideas_and_supports_with_exact_counts(site):
    call_command("generate_ideas", ideas=40, supports=300, users=25, stdout=__import__("io").StringIO())
    assert Idea.objects.count() == 40
    assert Support.objects.count() == 300
    counted = dict(Support.objects.values("idea_id").annotate(n=Count("pk")).values_list("idea_id", "n"))
    for idea in Idea.objects.all():
        assert idea.supporters_count == counted.get(idea.pk, 0)
        assert not Support.objects.filter(idea=idea, user_id=idea.creator_id).exists()


def test_generated_ideas_are_found_by_search(site):
    call_command("generate_ideas", ideas=30, supports=60, users=10, stdout=__import__("io").StringIO())
    idea = Idea.objects.order_by("pk").last()
    word = idea.title.split()[0]
    found = {result.pk for result in ideas_search(queryset=Idea.objects.all(), query=word)}
    expected = set(Idea.objects.filter(description__icontains=word).values_list("pk", flat=True))
    assert idea.pk in found
    assert found == expected


def test_generated_ideas_have_a_history_over_past_months_and_dated_first_milestones(site):
    call_command("generate_ideas", ideas=30, supports=4000, users=300, stdout=__import__("io").StringIO())
    ideas = list(Idea.objects.all())
    published = sorted(idea.published_at for idea in ideas)
    assert (published[-1] - published[0]).days > 30
    for idea in ideas:
        assert idea.created_at < idea.published_at
        assert idea.terms_accepted_at == idea.created_at
        if idea.status == Idea.Status.EXPIRED:
            assert idea.deadline < timezone.now()
        elif idea.deadline is not None:
            assert idea.deadline > timezone.now()
        times = sorted(Support.objects.filter(idea=idea).values_list("created_at", flat=True))
        assert all(idea.published_at <= t for t in times)
        if idea.deadline is not None:
            assert all(t <= idea.deadline for t in times)
        if idea.supporters_count >= 100:
            assert idea.first_milestone_at == times[99]
        else:
            assert idea.first_milestone_at is None
    assert any(idea.first_milestone_at for idea in ideas)
