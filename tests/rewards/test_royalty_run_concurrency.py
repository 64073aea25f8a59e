"""Two runs of the same period at once post once: each posts under the period's row lock, re-reading if inputs moved."""

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


@pytest.mark.django_db
def test_sales_imported_while_a_run_reads_are_read_again_under_the_lock_and_posted(monkeypatch) -> None:
    finance = finance_user()
    agreement_make(payees=[UserFactory()], actor=finance)
    sell(["SKU-1,2026-07,EUR,1000.00,0,0"], actor=finance)
    real_plan = services._run_plan
    plans_made = []

    def plan_then_import(period, run):
        plans = real_plan(period, run)
        if not plans_made:
            sell(["SKU-1,2026-08,EUR,500.00,0,0"], actor=finance)  # lands after the first reading
        plans_made.append(plans)
        return plans

    monkeypatch.setattr(services, "_run_plan", plan_then_import)
    run = services.royalty_run(period="2026-Q3")

    assert len(plans_made) == 2
    assert run.entries_posted == 1
    assert list(LedgerEntry.objects.values_list("amount_minor", flat=True)) == [1500]
