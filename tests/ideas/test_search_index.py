"""Every idea is in the search index after ``migrate``, however its row arrived."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import connection
from modelsearch.backends import database as database_search

from cocreate.signals import after_migrate
from ideas.models import Idea
from ideas.selectors import similar_ideas
from ideas.services import ideas_search_index_sync
from tests.factories import UserFactory
from tests.ideas.factories import IdeaFactory, campaign_create

pytestmark = pytest.mark.django_db


def _bulk_ideas(titles: list[str]) -> list[Idea]:
    """Rows inserted without ``post_save``, as bulk loads and restored backups arrive."""
    campaign = campaign_create()
    creator = UserFactory()
    return Idea.objects.bulk_create(IdeaFactory.build(campaign=campaign, creator=creator, title=t) for t in titles)


def test_ideas_inserted_in_bulk_are_suggested_once_the_index_is_synced(site):
    _bulk_ideas(["Solar forklift charger", "Pallet scanner app"])
    assert similar_ideas(query="Solar panels, loading dock") == []

    assert ideas_search_index_sync() == 2

    assert [idea.title for idea in similar_ideas(query="Solar panels, loading dock")] == ["Solar forklift charger"]
    assert ideas_search_index_sync() == 0


def test_every_migrate_syncs_the_index(site):
    _bulk_ideas(["Cold-chain alerts"])
    last_app = [config for config in apps.get_app_configs() if config.models_module][-1]

    after_migrate(sender=last_app)

    assert [idea.title for idea in similar_ideas(query="cold chain")] == ["Cold-chain alerts"]


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the full-text check is SQLite's")
def test_a_process_that_looked_before_the_full_text_table_existed_goes_back_to_full_text(site, monkeypatch):
    monkeypatch.setattr(database_search, "USE_SQLITE_FTS", False)
    _bulk_ideas(["Voice picking headsets"])

    ideas_search_index_sync()

    assert database_search.USE_SQLITE_FTS is True
    assert [idea.title for idea in similar_ideas(query="picking")] == ["Voice picking headsets"]
