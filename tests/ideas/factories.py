"""Factories for ideas, campaigns and supports."""

from __future__ import annotations

from datetime import timedelta

import factory
from django.utils import timezone

from cocreate.models import HomePage
from ideas.models import Comment, Idea, IdeaCampaignPage, Support
from tests.factories import UserFactory


def campaign_create(*, parent: HomePage | None = None, **fields: object) -> IdeaCampaignPage:
    """A published campaign page under the home page (Wagtail pages are not built by factory_boy)."""
    from cocreate.services import site_ensure

    parent = parent or site_ensure()
    count = IdeaCampaignPage.objects.count()
    fields.setdefault("title", f"Campaign {count + 1}")
    fields.setdefault("slug", f"campaign-{count + 1}-{timezone.now().timestamp():.0f}")
    fields.setdefault("terms_version", "2026-11")
    campaign = IdeaCampaignPage(**fields)
    parent.add_child(instance=campaign)
    campaign.save_revision().publish()
    return campaign


class IdeaFactory(factory.django.DjangoModelFactory):
    """A published idea gathering support, 60 days to go. Pass ``status=...`` for other states."""

    class Meta:
        model = Idea
        skip_postgeneration_save = True

    campaign = factory.LazyFunction(lambda: IdeaCampaignPage.objects.first() or campaign_create())
    title = factory.Sequence(lambda n: f"Idea number {n}")
    summary = "A short summary of the idea."
    description = "<p>What the idea is, in more detail.</p>"
    status = Idea.Status.PUBLISHED
    creator = factory.SubFactory(UserFactory)
    terms_version = "2026-11"
    terms_accepted_at = factory.LazyFunction(timezone.now)
    published_at = factory.LazyFunction(timezone.now)
    deadline = factory.LazyFunction(lambda: timezone.now() + timedelta(days=60))


class SupportFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Support

    idea = factory.SubFactory(IdeaFactory)
    user = factory.SubFactory(UserFactory)


class CommentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Comment

    idea = factory.SubFactory(IdeaFactory)
    author = factory.SubFactory(UserFactory)
    body = "<p>A comment.</p>"
