"""Suggestions while someone types a title: shared content words count, shared common words do not."""

from __future__ import annotations

import pytest

from ideas.selectors import similar_ideas, suggestion_words
from tests.ideas.factories import IdeaFactory, campaign_create

pytestmark = pytest.mark.django_db


def _titles(query: str) -> list[str]:
    return [idea.title for idea in similar_ideas(query=query)]


def test_ideas_sharing_only_common_words_are_not_suggested(site):
    campaign = campaign_create()
    IdeaFactory(campaign=campaign, title="Lights on the roof")
    IdeaFactory(campaign=campaign, title="A map of the warehouse")
    IdeaFactory(campaign=campaign, title="Pallet labels that last")
    assert _titles("Pallet tracking on the dock") == ["Pallet labels that last"]
    assert _titles("the on of a") == []


def test_common_words_are_dropped_whatever_their_case(site):
    assert suggestion_words("The Pallet ON the Dock") == "Pallet Dock"
    assert suggestion_words("on the") == ""


def test_chinese_titles_are_still_suggested(site):
    campaign = campaign_create()
    IdeaFactory(campaign=campaign, title="托盘 追踪")
    IdeaFactory(campaign=campaign, title="仓库照明")
    assert suggestion_words("托盘 追踪 the") == "托盘 追踪"
    assert _titles("托盘") == ["托盘 追踪"]
    assert _titles("仓库照明") == ["仓库照明"]
    # A run of Chinese characters is one token to the index, so the start of a title is found (by prefix)...
    assert _titles("仓库") == ["仓库照明"]
    assert _titles("托") == []
