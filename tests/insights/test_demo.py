from __future__ import annotations

from typing import Any

import boards.demo
import ideas.demo
from cocreate.demo import seed_core
from cocreate.insights import selectors
from cocreate.insights.demo import seed_demo
from cocreate.models import Survey, SurveyAnswer


def test_the_demo_answers_fill_the_satisfaction_and_nps_charts_and_are_idempotent(site: Any) -> None:
    people = seed_core()
    # On-commit side effects (e-mails, the royalty agreement) are not run: the test transaction never commits.
    ideas.demo.seed_demo(people=people)
    boards.demo.seed_demo(people=people)
    (line,) = seed_demo(people=people)
    answers = SurveyAnswer.objects.count()
    assert line.startswith(f"{answers} survey answers")
    assert Survey.objects.filter(kind=Survey.Kind.NPS).count() == 4
    assert Survey.objects.filter(kind=Survey.Kind.CSAT, idea__isnull=False).exists()
    assert not SurveyAnswer.objects.filter(organisation__isnull=False, tier="").exists()
    figures = selectors.insights_compute(selectors.InsightFilters.default())
    assert figures["nps"]["total"][0]["responses"] == 16
    assert figures["csat"]["total"][0]["responses"] >= 1
    assert seed_demo(people=people) == [
        "0 survey answers added (NPS per quarter, CSAT on closed ideas and ended sessions)"
    ]
    assert SurveyAnswer.objects.count() == answers
