"""A royalty run posts the whole period or nothing: every input is checked first, and every problem is listed."""

from __future__ import annotations

from decimal import Decimal

import pytest

from rewards import services
from rewards.models import Agreement, FxRate, LedgerEntry, Period, RoyaltyResult, RoyaltyRun, TermsPayee
from tests.conftest import logged_in_client
from tests.factories import UserFactory
from tests.rewards.factories import agreement_make, sell

pytestmark = pytest.mark.django_db


def _ledger() -> list[tuple[int, int, str, int]]:
    return list(LedgerEntry.objects.order_by("pk").values_list("pk", "agreement_id", "kind", "amount_minor"))


def _results() -> list[tuple[int, str, int]]:
    return list(RoyaltyResult.objects.order_by("pk").values_list("agreement_id", "net_sales", "royalty_minor"))


def _sell_to_six_agreements(finance) -> list[Agreement]:
    """Six agreements with sales in 2026-Q3; the last three sell in USD too."""
    services.fx_rate_set(actor=finance, period="2026-Q3", from_currency="USD", to_currency="EUR", rate=Decimal("0.9"))
    agreements = [
        agreement_make(payees=[UserFactory(), UserFactory()], codes=[f"P-{index}"], actor=finance) for index in range(6)
    ]
    sell([f"P-{index},2026-07,EUR,{1000 + index}.00,0,0" for index in range(6)], actor=finance)
    sell([f"P-{index},2026-08,USD,500.00,0,0" for index in range(3, 6)], actor=finance)
    return agreements


def _break_the_last_ones(agreements: list[Agreement]) -> None:
    """Damage the latest agreements below the services (which refuse all of this), as a bad migration or a hand
    edit in the database could: shares no longer summing to 10,000, a draft with sales, a missing FX rate."""
    TermsPayee.objects.filter(terms__agreement=agreements[-1]).update(share_bp=4000)
    Agreement.objects.filter(pk=agreements[-2].pk).update(status=Agreement.Status.DRAFT)
    FxRate.objects.all().delete()


def test_a_run_with_late_invalid_agreements_posts_nothing_and_lists_every_problem(finance) -> None:
    agreements = _sell_to_six_agreements(finance)
    _break_the_last_ones(agreements)

    with pytest.raises(services.RoyaltyRunInvalidError) as caught:
        services.royalty_run(period="2026-Q3")

    assert not LedgerEntry.objects.exists()
    assert not RoyaltyResult.objects.exists()
    assert Period.objects.get(code="2026-Q3").state == Period.State.OPEN
    problems = caught.value.problems
    assert len(problems) == 5  # the bad shares, the draft, and the missing rate for each of three agreements
    assert any("Agreement for P-5" in p and "sum to 8000" in p for p in problems)
    assert any("Agreement for P-4" in p and "draft" in p for p in problems)
    assert sum("No USD→EUR rate for 2026-Q3" in p for p in problems) == 3
    run = RoyaltyRun.objects.get()
    assert run.status == RoyaltyRun.Status.FAILED
    assert run.entries_posted == 0
    assert run.error.startswith("Period 2026-Q3 was not run: 5 problem(s) to fix first. Nothing was posted.")
    for problem in problems:
        assert f"• {problem}" in run.error
    assert run.problems == problems


def test_the_api_shows_a_refused_run_with_its_problems(finance, django_capture_on_commit_callbacks) -> None:
    agreements = _sell_to_six_agreements(finance)
    TermsPayee.objects.filter(terms__agreement=agreements[-1]).update(share_bp=4000)
    client = logged_in_client(finance)
    with django_capture_on_commit_callbacks(execute=True):
        started = client.post("/api/royalties/runs/", {"period": "2026-Q3"}, content_type="application/json")
    assert started.status_code == 202

    body = client.get(f"/api/royalties/runs/{started.json()['id']}/").json()

    assert body["status"] == "failed"
    assert body["entries_posted"] == 0
    assert body["problems"] == [
        "Agreement “Agreement for P-5”: payee shares must be positive and sum to 10,000 basis points "
        "(they sum to 8000)."
    ]
    assert not LedgerEntry.objects.exists()


def test_a_failed_rerun_leaves_the_earlier_postings_and_the_period_as_they_were(finance) -> None:
    agreements = _sell_to_six_agreements(finance)
    services.royalty_run(period="2026-Q3")
    ledger, results = _ledger(), _results()
    assert len(ledger) == 12
    sell([f"P-{index},2026-09,EUR,100.00,0,0" for index in range(6)], actor=finance)
    assert Period.objects.get(code="2026-Q3").state == Period.State.OPEN
    _break_the_last_ones(agreements)

    with pytest.raises(services.RoyaltyRunInvalidError):
        services.royalty_run(period="2026-Q3")

    assert _ledger() == ledger
    assert _results() == results
    assert Period.objects.get(code="2026-Q3").state == Period.State.OPEN


def test_a_failure_while_posting_rolls_back_every_posting(finance, monkeypatch) -> None:
    _sell_to_six_agreements(finance)
    real_insert = services._rows_insert
    calls = []

    def insert_then_fail(model, columns, rows):
        calls.append(model)
        if model is RoyaltyResult:  # the ledger rows are in by now
            raise RuntimeError("the database went away")
        real_insert(model, columns, rows)

    monkeypatch.setattr(services, "_rows_insert", insert_then_fail)
    with pytest.raises(RuntimeError):
        services.royalty_run(period="2026-Q3")

    assert calls == [LedgerEntry, RoyaltyResult]
    assert not LedgerEntry.objects.exists()
    assert Period.objects.get(code="2026-Q3").state == Period.State.OPEN
    run = RoyaltyRun.objects.get()
    assert (run.status, run.entries_posted) == (RoyaltyRun.Status.FAILED, 0)
    assert "Nothing was posted" in run.error


def test_once_fixed_the_same_period_runs_and_posts_everything(finance) -> None:
    agreements = _sell_to_six_agreements(finance)
    TermsPayee.objects.filter(terms__agreement=agreements[-1]).update(share_bp=4000)
    with pytest.raises(services.RoyaltyRunInvalidError):
        services.royalty_run(period="2026-Q3")
    TermsPayee.objects.filter(terms__agreement=agreements[-1]).update(share_bp=5000)

    run = services.royalty_run(period="2026-Q3")

    assert run.status == RoyaltyRun.Status.DONE
    assert LedgerEntry.objects.count() == 12
    assert Period.objects.get(code="2026-Q3").state == Period.State.CALCULATED
