"""Ideas indexed in bulk (``ideas_search_index_sync``) get the same index entries, and so the same search results,
as ideas indexed one by one when they are saved; on SQLite and on PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db.models import CharField
from django.db.models.functions import Cast
from wagtail.search.backends import get_search_backend
from wagtail.search.models import IndexEntry

from cocreate.search_index import search_index_add_many
from ideas.models import Idea
from ideas.selectors import ideas_search, similar_ideas
from ideas.services import ideas_search_index_sync
from tests.factories import UserFactory
from tests.ideas.factories import IdeaFactory, campaign_create

pytestmark = pytest.mark.django_db

TEXTS = [
    {
        "title": "  Solar forklift charger  ",
        "summary": "Charge forklifts from the warehouse roof, no grid needed.",
        "description": "<p>Panels on the roof, a battery bank by the <b>loading dock</b>.</p>",
    },
    {"title": "Pallet scanner app", "summary": "\u00a0Scan pallets with a phone.\n", "description": ""},
    {"title": "Réparations à la chaîne", "summary": "Kühlkette überwachen", "description": "<p>冷链 监控</p>"},
]
QUERIES = ["solar", "forklift charger", "loading dock", "pallet", "scan", "phone", "chaîne", "kühlkette", "冷链"]


def _entry(idea: Idea) -> dict[str, Any]:
    """The idea's index entry, every searchable column as text (tsvectors print their lexemes, weights and
    positions)."""
    fields = ["title", "autocomplete", "body"]
    row = (
        IndexEntry.objects.filter(content_type=ContentType.objects.get_for_model(Idea), object_id=str(idea.pk))
        .annotate(**{f"{name}_as_text": Cast(name, CharField()) for name in fields})
        .values(*[f"{name}_as_text" for name in fields], *(["title_text", "body_text"] if _has_plain_text() else []))
        .get()
    )
    return row


def _has_plain_text() -> bool:
    return any(field.name == "title_text" for field in IndexEntry._meta.get_fields())


def _pairs() -> list[tuple[Idea, Idea]]:
    """For each text: one idea saved (indexed one by one) and one inserted without ``post_save``, then indexed
    by the bulk path."""
    campaign = campaign_create()
    creator = UserFactory()
    saved = [IdeaFactory(campaign=campaign, creator=creator, **text) for text in TEXTS]
    bulk = Idea.objects.bulk_create(IdeaFactory.build(campaign=campaign, creator=creator, **text) for text in TEXTS)
    assert ideas_search_index_sync() == len(TEXTS)
    return list(zip(saved, bulk, strict=True))


def test_an_idea_indexed_in_bulk_has_the_entry_saving_it_writes(site):
    for saved, bulk in _pairs():
        assert _entry(bulk) == _entry(saved)


def test_an_idea_indexed_in_bulk_is_found_by_the_same_queries(site):
    pairs = _pairs()
    backend = get_search_backend()
    for query in QUERIES:
        found = {idea.pk for idea in ideas_search(queryset=Idea.objects.all(), query=query)}
        prefixed = {idea.pk for idea in backend.autocomplete(query[:4], Idea.objects.all())}
        similar = {idea.pk for idea in similar_ideas(query=query)}
        for saved, bulk in pairs:
            assert (saved.pk in found) == (bulk.pk in found), query
            assert (saved.pk in prefixed) == (bulk.pk in prefixed), query
            assert (saved.pk in similar) == (bulk.pk in similar), query
    # Not vacuous: the queries do find ideas, through each path.
    assert {idea.pk for idea in ideas_search(queryset=Idea.objects.all(), query="solar")} == {
        pairs[0][0].pk,
        pairs[0][1].pk,
    }


def test_indexing_an_indexed_idea_again_replaces_its_entry(site):
    saved, bulk = _pairs()[0]
    Idea.objects.filter(pk=bulk.pk).update(title="Cold-chain alerts")  # no post_save: the entry is stale

    search_index_add_many(model=Idea, pks=[bulk.pk])

    assert [idea.pk for idea in ideas_search(queryset=Idea.objects.all(), query="cold chain")] == [bulk.pk]
    assert {idea.pk for idea in ideas_search(queryset=Idea.objects.all(), query="solar")} == {saved.pk}
    assert (
        IndexEntry.objects.filter(content_type=ContentType.objects.get_for_model(Idea), object_id=str(bulk.pk)).count()
        == 1
    )
