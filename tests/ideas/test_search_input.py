from __future__ import annotations

import pytest
from django.test import Client

from ideas.selectors import search_words
from tests.ideas.factories import IdeaFactory

pytestmark = pytest.mark.django_db


def test_search_keeps_only_the_words_people_typed() -> None:
    assert search_words('Bv"\x923í solar-charger (fork*lift) AND') == "Bv 3í solar charger fork lift AND"


@pytest.mark.parametrize("query", ['Bv"\x923í', '"unbalanced', "fork*", "a OR (b", "NEAR(x y)", '"""'])
def test_search_syntax_in_a_query_is_never_a_server_error(query: str) -> None:
    IdeaFactory(title="Solar forklift charger")
    assert Client().get("/api/ideas/similar/", {"q": query}).status_code == 200
    assert Client().get("/api/ideas/", {"q": query}).status_code == 200
