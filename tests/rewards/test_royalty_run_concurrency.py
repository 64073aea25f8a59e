"""Two runs of the same period at once post once: each chunk holds the period's row lock while it compares."""

from __future__ import annotations

import threading

import pytest
from django.conf import settings
from django.db import connection

from rewards import services
from rewards.models import LedgerEntry
from tests.factories import UserFactory
from tests.rewards.factories import agreement_make, finance_user, sell


@pytest.mark.skipif(not settings.IS_POSTGRES, reason="row locks across connections need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_of_one_period_post_each_entry_once() -> None:
    finance = finance_user()
    for index in range(30):
        agreement_make(payees=[UserFactory(), UserFactory()], codes=[f"C-{index}"], actor=finance)
    sell([f"C-{index},2026-07,EUR,{1000 + index}.00,0,0" for index in range(30)], actor=finance)
    barrier = threading.Barrier(3)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            services.royalty_run(period="2026-Q3")
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert LedgerEntry.objects.count() == 60
    assert not LedgerEntry.objects.filter(kind=LedgerEntry.Kind.REVERSAL).exists()
