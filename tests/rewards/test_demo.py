from __future__ import annotations

import pytest

from cocreate.demo import seed_core
from rewards.demo import seed_demo
from rewards.models import Agreement, LedgerEntry, Payout, SalesLine

pytestmark = pytest.mark.django_db


def test_the_demo_seeds_a_calculated_quarter_once() -> None:
    people = seed_core()
    seed_demo(people=people)
    counts = (Agreement.objects.count(), SalesLine.objects.count(), LedgerEntry.objects.count(), Payout.objects.count())
    assert counts[0] == 1
    assert counts[1] == 6
    assert counts[2] >= 2
    assert seed_demo(people=people) == ["royalty demo already present"]
    assert (
        Agreement.objects.count(),
        SalesLine.objects.count(),
        LedgerEntry.objects.count(),
        Payout.objects.count(),
    ) == counts
