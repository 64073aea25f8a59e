"""Royalty runs: exact net x rate, rounded once, advance recouped, split by largest remainder, posted once."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db.models import Sum

from cocreate.errors import DomainError
from rewards import services
from rewards.models import LedgerEntry, Period, RoyaltyResult, RoyaltyRun
from tests.factories import UserFactory
from tests.rewards.factories import agreement_make, sell

pytestmark = pytest.mark.django_db


def _payee_amounts(agreement, period="2026-Q3", kind=LedgerEntry.Kind.EARNED) -> list[int]:
    return list(
        LedgerEntry.objects.filter(agreement=agreement, period__code=period, kind=kind, payee__isnull=False)
        .order_by("pk")
        .values_list("amount_minor", flat=True)
    )


def _assert_ledger_balances(agreement, period: str) -> None:
    """Sum of every posting of the run equals the agreement's rounded royalty for the period."""
    posted = (
        LedgerEntry.objects.filter(agreement=agreement, period__code=period)
        .exclude(kind=LedgerEntry.Kind.PAYOUT)
        .exclude(reversal_of__kind=LedgerEntry.Kind.PAYOUT)
        .aggregate(total=Sum("amount_minor"))["total"]
        or 0
    )
    rounded = RoyaltyResult.objects.filter(agreement=agreement, period__code=period).aggregate(
        total=Sum("royalty_minor")
    )["total"]
    assert posted == rounded


def test_the_product_spec_worked_example_end_to_end(finance) -> None:
    creators = [UserFactory(), UserFactory(), UserFactory()]
    agreement = agreement_make(payees=creators, actor=finance)
    sell(["SKU-1,2026-07,EUR,1000000.00,0,0", "SKU-1,2026-08,EUR,234567.89,0,0"], actor=finance)
    run = services.royalty_run(period="2026-Q3")
    assert run.status == RoyaltyRun.Status.DONE
    result = RoyaltyResult.objects.get(agreement=agreement)
    assert Decimal(result.net_sales) == Decimal("1234567.89")
    assert Decimal(result.royalty_exact) == Decimal("12345.6789")
    assert result.royalty_minor == 1_234_568
    assert _payee_amounts(agreement) == [411_523, 411_523, 411_522]
    assert list(LedgerEntry.objects.filter(agreement=agreement).order_by("pk").values_list("payee_id", flat=True)) == [
        c.pk for c in creators
    ]
    assert Period.objects.get(code="2026-Q3").state == Period.State.CALCULATED
    _assert_ledger_balances(agreement, "2026-Q3")


def test_running_a_period_again_changes_nothing(finance) -> None:
    agreement = agreement_make(payees=[UserFactory(), UserFactory()], actor=finance)
    sell(["SKU-1,2026-07,EUR,999.99,0,0"], actor=finance)
    services.royalty_run(period="2026-Q3")
    before = list(LedgerEntry.objects.values_list("pk", "amount_minor"))
    second = services.royalty_run(period="2026-Q3")
    assert second.entries_posted == 0
    assert list(LedgerEntry.objects.values_list("pk", "amount_minor")) == before
    assert RoyaltyResult.objects.filter(agreement=agreement).count() == 1


def test_half_even_agreements_round_exactly_half_a_cent_to_even(finance) -> None:
    up = agreement_make(codes=["UP"], actor=finance)
    even = agreement_make(codes=["EVEN"], rounding="half_even", actor=finance)
    # 0.50 x 1% = 0.005: half-up → 0.01, half-even → 0.00.
    sell(["UP,2026-07,EUR,0.50,0,0", "EVEN,2026-07,EUR,0.50,0,0"], actor=finance)
    services.royalty_run(period="2026-Q3")
    assert _payee_amounts(up) == [1]
    assert _payee_amounts(even) == []
    assert RoyaltyResult.objects.get(agreement=even).royalty_minor == 0


def test_the_royalty_is_rounded_once_per_agreement_not_per_line(finance) -> None:
    agreement = agreement_make(actor=finance)
    # Three lines of 0.40 each: per line 0.004 → 0.00; together 1.20 x 1% = 0.012 → 0.01.
    sell(["SKU-1,2026-07,EUR,0.40,0,0"] * 3, actor=finance)
    services.royalty_run(period="2026-Q3")
    assert _payee_amounts(agreement) == [1]


def test_tiers_crossing_within_the_period_pay_each_slice_at_its_rate(finance) -> None:
    tiers = [{"up_to": "1000000.00", "rate_bp": 100}, {"up_to": None, "rate_bp": 200}]
    agreement = agreement_make(tiers=tiers, actor=finance)
    sell(["SKU-1,2026-04,EUR,900000.00,0,0"], actor=finance)
    services.royalty_run(period="2026-Q2")
    sell(["SKU-1,2026-07,EUR,300000.00,0,0"], actor=finance)
    services.royalty_run(period="2026-Q3")
    # 100,000 at 1% + 200,000 at 2% = 5,000.00
    assert _payee_amounts(agreement) == [500_000]


def test_an_advance_is_recouped_before_the_split_and_earned_out_within_a_period(finance) -> None:
    agreement = agreement_make(payees=[UserFactory(), UserFactory()], advance="100.00", actor=finance)
    sell(["SKU-1,2026-04,EUR,6000.00,0,0"], actor=finance)  # 60.00 royalty, all recouped
    services.royalty_run(period="2026-Q2")
    assert _payee_amounts(agreement, "2026-Q2") == []
    sell(["SKU-1,2026-07,EUR,10000.00,0,0"], actor=finance)  # 100.00: 40.00 recouped, 60.00 split
    services.royalty_run(period="2026-Q3")
    assert _payee_amounts(agreement) == [3000, 3000]
    recouped = LedgerEntry.objects.filter(agreement=agreement, kind=LedgerEntry.Kind.ADVANCE_RECOUPED)
    assert list(recouped.values_list("amount_minor", flat=True)) == [6000, 4000]
    _assert_ledger_balances(agreement, "2026-Q2")
    _assert_ledger_balances(agreement, "2026-Q3")


def test_a_negative_period_carries_forward_against_later_earnings(finance) -> None:
    agreement = agreement_make(actor=finance)
    sell(["SKU-1,2026-04,EUR,100.00,600.00,0"], actor=finance)  # net -500.00 → royalty -5.00
    services.royalty_run(period="2026-Q2")
    assert _payee_amounts(agreement, "2026-Q2") == []
    carry = LedgerEntry.objects.get(agreement=agreement, kind=LedgerEntry.Kind.CARRY_FORWARD)
    assert (carry.payee_id, carry.amount_minor) == (None, -500)
    sell(["SKU-1,2026-07,EUR,800.00,0,0"], actor=finance)  # +8.00: 5.00 absorbs the deficit, 3.00 paid
    services.royalty_run(period="2026-Q3")
    assert _payee_amounts(agreement) == [300]
    _assert_ledger_balances(agreement, "2026-Q2")
    _assert_ledger_balances(agreement, "2026-Q3")


def test_sales_in_another_currency_convert_at_the_period_end_rate(finance) -> None:
    agreement = agreement_make(actor=finance)
    services.fx_rate_set(
        actor=finance, period="2026-Q3", from_currency="USD", to_currency="EUR", rate=Decimal("0.92345678")
    )
    sell(["SKU-1,2026-07,USD,1000.00,0,0", "SKU-1,2026-07,EUR,10.00,0,0"], actor=finance)
    services.royalty_run(period="2026-Q3")
    result = RoyaltyResult.objects.get(agreement=agreement)
    assert Decimal(result.net_sales) == Decimal("933.45678")
    assert _payee_amounts(agreement) == [933]  # 9.3345678 → 9.33


def test_a_yen_agreement_posts_whole_yen(finance) -> None:
    agreement = agreement_make(currency="JPY", actor=finance, payees=[UserFactory(), UserFactory(), UserFactory()])
    sell(["SKU-1,2026-07,JPY,123456,0,0"], actor=finance)  # 1,234.56 → 1,235 → 412/412/411
    services.royalty_run(period="2026-Q3")
    assert _payee_amounts(agreement) == [412, 412, 411]


def test_a_run_on_a_closed_period_is_refused_and_changes_nothing(finance) -> None:
    agreement_make(actor=finance)
    sell(["SKU-1,2026-07,EUR,100.00,0,0"], actor=finance)
    services.royalty_run(period="2026-Q3")
    services.period_close(actor=finance, period="2026-Q3")
    count = LedgerEntry.objects.count()
    with pytest.raises(DomainError, match="closed"):
        services.royalty_run(period="2026-Q3")
    with pytest.raises(DomainError, match="closed"):
        services.royalty_run_start(actor=finance, period="2026-Q3")
    assert LedgerEntry.objects.count() == count


def test_a_bad_period_code_is_refused(finance) -> None:
    with pytest.raises(DomainError, match="calendar quarter"):
        services.royalty_run_start(actor=finance, period="2026-Q5")


def test_late_sales_after_close_post_as_adjustments_in_the_next_open_period(finance) -> None:
    payees = [UserFactory(), UserFactory()]
    agreement = agreement_make(payees=payees, actor=finance)
    sell(["SKU-1,2026-07,EUR,1000.00,0,0,DE,retail"], actor=finance)
    services.royalty_run(period="2026-Q3")
    services.period_close(actor=finance, period="2026-Q3")
    closed_entries = list(LedgerEntry.objects.filter(period__code="2026-Q3").values_list("pk", "amount_minor"))
    services.sales_import_csv(
        actor=finance,
        file_name="late.csv",
        content=b"line_id,product_code,month,currency,gross_sales,returns,discounts,territory,channel\n"
        b"CN-7,SKU-1,2026-07,EUR,0,100.00,0,DE,retail\nLATE-1,SKU-1,2026-08,EUR,301.00,0,0,FR,online\n",
    )
    from rewards.models import SalesLine

    correction = SalesLine.objects.get(line_key="CN-7")
    assert correction.is_late
    assert correction.period.code == "2026-Q4"
    assert correction.adjusts is not None
    assert correction.adjusts.line_key.startswith("SKU-1|2026-07")
    services.royalty_run(period="2026-Q4")
    adjustments = LedgerEntry.objects.filter(agreement=agreement, kind=LedgerEntry.Kind.ADJUSTMENT)
    assert {e.period.code for e in adjustments} == {"2026-Q4"}
    assert {e.source_period.code for e in adjustments} == {"2026-Q3"}
    # Net late sales 201.00 x 1% = 2.01 → 1.01 / 1.00
    assert list(adjustments.order_by("pk").values_list("amount_minor", flat=True)) == [101, 100]
    assert list(LedgerEntry.objects.filter(period__code="2026-Q3").values_list("pk", "amount_minor")) == closed_entries
    _assert_ledger_balances(agreement, "2026-Q4")


def test_changed_inputs_are_fixed_by_reversal_and_new_entries_never_by_editing(finance) -> None:
    agreement = agreement_make(actor=finance)
    services.fx_rate_set(actor=finance, period="2026-Q3", from_currency="USD", to_currency="EUR", rate=Decimal("1"))
    sell(["SKU-1,2026-07,USD,1000.00,0,0"], actor=finance)
    services.royalty_run(period="2026-Q3")
    first = LedgerEntry.objects.get(agreement=agreement)
    services.fx_rate_set(actor=finance, period="2026-Q3", from_currency="USD", to_currency="EUR", rate=Decimal("0.5"))
    assert Period.objects.get(code="2026-Q3").state == Period.State.OPEN
    services.royalty_run(period="2026-Q3")
    first.refresh_from_db()
    assert first.amount_minor == 1000
    reversal = LedgerEntry.objects.get(reversal_of=first)
    assert reversal.amount_minor == -1000
    assert _payee_amounts(agreement) == [1000, 500]
    assert (
        LedgerEntry.objects.filter(agreement=agreement, payee__isnull=False).aggregate(t=Sum("amount_minor"))["t"]
        == 500
    )
    _assert_ledger_balances(agreement, "2026-Q3")


def test_draft_agreements_with_sales_block_the_run(finance) -> None:
    draft = services.agreement_draft_open(
        idea_id=5, title="Draft idea", product_codes=["D-1"], launch_date=None, creator_ids=[UserFactory().pk]
    )
    sell(["D-1,2026-07,EUR,100.00,0,0"], actor=finance)
    with pytest.raises(DomainError, match="Draft idea"):
        services.royalty_run(period="2026-Q3")
    assert not LedgerEntry.objects.exists()
    services.agreement_activate(actor=finance, agreement=draft)
    services.royalty_run(period="2026-Q3")
    assert LedgerEntry.objects.count() == 1


def test_a_period_closes_only_when_calculated(finance, customer) -> None:
    agreement_make(actor=finance)
    sell(["SKU-1,2026-07,EUR,100.00,0,0"], actor=finance)
    with pytest.raises(DomainError, match="before closing"):
        services.period_close(actor=finance, period="2026-Q3")
    services.royalty_run(period="2026-Q3")
    with pytest.raises(Exception, match="finance"):
        services.period_close(actor=customer, period="2026-Q3")
    services.period_close(actor=finance, period="2026-Q3")
    assert Period.objects.get(code="2026-Q3").state == Period.State.CLOSED


def test_the_run_task_records_progress_and_status(finance, django_capture_on_commit_callbacks) -> None:
    agreement_make(actor=finance)
    agreement_make(codes=["SKU-2"], actor=finance)
    sell(["SKU-1,2026-07,EUR,100.00,0,0", "SKU-2,2026-07,EUR,100.00,0,0"], actor=finance)
    with django_capture_on_commit_callbacks(execute=True):
        run = services.royalty_run_start(actor=finance, period="2026-Q3")
    run.refresh_from_db()
    assert (run.status, run.agreements_total, run.agreements_done, run.progress) == ("done", 2, 2, 100)
    assert run.entries_posted == 2


def test_a_failed_run_is_recorded_with_its_reason(finance, django_capture_on_commit_callbacks) -> None:
    services.agreement_draft_open(idea_id=5, title="Draft", product_codes=["D-1"], launch_date=None, creator_ids=[])
    sell(["D-1,2026-07,EUR,100.00,0,0"], actor=finance)
    with django_capture_on_commit_callbacks(execute=True):
        run = services.royalty_run_start(actor=finance, period="2026-Q3")
    run.refresh_from_db()
    assert run.status == RoyaltyRun.Status.FAILED
    assert "Draft" in run.error


def test_property_the_ledger_balances_for_many_random_agreements(finance) -> None:
    import random

    rng = random.Random(11)
    agreements = []
    for index in range(12):
        count = rng.randint(1, 7)
        payees = [UserFactory() for _ in range(count)]
        from rewards.money import equal_shares_bp

        shares = equal_shares_bp(count) if index % 2 else _random_shares(rng, count)
        agreements.append(
            agreement_make(
                payees=payees,
                shares=shares,
                codes=[f"R-{index}"],
                advance=rng.choice(["0", "3.17"]),
                rounding=rng.choice(["half_up", "half_even"]),
                actor=finance,
            )
        )
    for period, month in (("2026-Q2", "2026-05"), ("2026-Q3", "2026-08")):
        rows = [
            f"R-{i},{month},EUR,{rng.randint(0, 99999)}.{rng.randint(0, 99):02d},{rng.randint(0, 30000)}.{rng.randint(0, 99):02d},0"
            for i in range(12)
            for _ in range(rng.randint(1, 4))
        ]
        sell(rows, actor=finance)
        services.royalty_run(period=period)
        for agreement in agreements:
            _assert_ledger_balances(agreement, period)


def _random_shares(rng, count):
    from rewards.money import BP_WHOLE

    cuts = sorted(rng.sample(range(1, BP_WHOLE), count - 1))
    return [b - a for a, b in zip([0, *cuts], [*cuts, BP_WHOLE], strict=True)]


def test_periods_close_in_order(finance) -> None:
    agreement_make(actor=finance)
    sell(["SKU-1,2026-04,EUR,100.00,0,0", "SKU-1,2026-07,EUR,100.00,0,0"], actor=finance)
    services.royalty_run(period="2026-Q2")
    services.royalty_run(period="2026-Q3")
    with pytest.raises(DomainError, match="Close 2026-Q2 first"):
        services.period_close(actor=finance, period="2026-Q3")
    services.period_close(actor=finance, period="2026-Q2")
    services.period_close(actor=finance, period="2026-Q3")


def test_a_changed_earlier_period_sends_later_calculated_periods_back_to_open(finance) -> None:
    agreement = agreement_make(actor=finance)
    sell(["SKU-1,2026-04,EUR,100.00,600.00,0", "SKU-1,2026-07,EUR,800.00,0,0"], actor=finance)
    services.royalty_run(period="2026-Q2")
    services.royalty_run(period="2026-Q3")
    assert _payee_amounts(agreement) == [300]
    sell(["SKU-1,2026-05,EUR,500.00,0,0"], actor=finance)  # Q2 is now 0.00, no deficit to carry
    services.royalty_run(period="2026-Q2")
    assert Period.objects.get(code="2026-Q3").state == Period.State.OPEN
    services.royalty_run(period="2026-Q3")
    assert _payee_amounts(agreement) == [300, 800]
    assert LedgerEntry.objects.filter(agreement=agreement, period__code="2026-Q3", kind="reversal").count() == 2
    _assert_ledger_balances(agreement, "2026-Q2")
    _assert_ledger_balances(agreement, "2026-Q3")
