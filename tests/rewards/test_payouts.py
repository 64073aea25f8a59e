"""Payouts: balances at or above the minimum become payout lines; pending → approved → paid posts to the ledger."""

from __future__ import annotations

import pytest

from cocreate.errors import ConflictError, DomainError
from rewards import selectors, services
from rewards.models import LedgerEntry, Payout, Period
from tests.factories import UserFactory
from tests.rewards.factories import agreement_make, sell

pytestmark = pytest.mark.django_db


def test_balances_below_the_minimum_carry_forward_until_they_reach_it(finance) -> None:
    alice = UserFactory()
    agreement_make(payees=[alice], minimum_payout="25.00", actor=finance)
    sell(["SKU-1,2026-04,EUR,2000.00,0,0"], actor=finance)  # 20.00
    services.royalty_run(period="2026-Q2")
    assert services.payouts_create(actor=finance, period="2026-Q2") == []
    sell(["SKU-1,2026-07,EUR,600.00,0,0"], actor=finance)  # +6.00 = 26.00
    services.royalty_run(period="2026-Q3")
    [payout] = services.payouts_create(actor=finance, period="2026-Q3")
    assert (payout.payee, payout.amount_minor, payout.status) == (alice, 2600, Payout.Status.PENDING)
    assert services.payouts_create(actor=finance, period="2026-Q3") == []


def test_an_approved_payout_paid_with_a_reference_posts_to_the_ledger(finance) -> None:
    alice = UserFactory()
    agreement = agreement_make(payees=[alice], actor=finance)
    sell(["SKU-1,2026-07,EUR,1000.00,0,0"], actor=finance)
    services.royalty_run(period="2026-Q3")
    [payout] = services.payouts_create(actor=finance, period="2026-Q3")
    with pytest.raises(ConflictError):
        services.payout_mark_paid(actor=finance, payout=payout, reference="BANK-1")
    services.payout_approve(actor=finance, payout=payout)
    with pytest.raises(DomainError, match="reference"):
        services.payout_mark_paid(actor=finance, payout=payout, reference=" ")
    paid = services.payout_mark_paid(actor=finance, payout=payout, reference="BANK-1")
    assert paid.status == Payout.Status.PAID
    assert paid.ledger_entry is not None
    assert paid.ledger_entry.amount_minor == -1000
    assert paid.ledger_entry.kind == LedgerEntry.Kind.PAYOUT
    assert services.payee_balances() == {(agreement.pk, alice.pk): 0}


def test_a_payee_without_consent_is_held_and_can_be_released(finance) -> None:
    alice = UserFactory()
    agreement = agreement_make(payees=[alice], consent=False, actor=finance)
    sell(["SKU-1,2026-07,EUR,1000.00,0,0"], actor=finance)
    services.royalty_run(period="2026-Q3")
    [payout] = services.payouts_create(actor=finance, period="2026-Q3")
    assert payout.status == Payout.Status.HELD
    services.payee_consent(user=alice, agreement=agreement)
    assert services.payout_release(actor=finance, payout=payout).status == Payout.Status.PENDING
    assert services.payout_hold(actor=finance, payout=payout, reason="Bank details").status == Payout.Status.HELD


def test_payouts_need_a_calculated_period(finance) -> None:
    agreement_make(actor=finance)
    sell(["SKU-1,2026-07,EUR,1000.00,0,0"], actor=finance)
    with pytest.raises(DomainError, match="Run period"):
        services.payouts_create(actor=finance, period="2026-Q3")


def test_a_paid_payout_shows_on_the_next_statement(finance) -> None:
    alice = UserFactory()
    agreement_make(payees=[alice], actor=finance)
    sell(["SKU-1,2026-07,EUR,1000.00,0,0"], actor=finance)
    services.royalty_run(period="2026-Q3")
    services.period_close(actor=finance, period="2026-Q3")
    [payout] = services.payouts_create(actor=finance, period="2026-Q3")
    services.payout_approve(actor=finance, payout=payout)
    services.payout_mark_paid(actor=finance, payout=payout, reference="BANK-9")
    payout.refresh_from_db()
    posting_period = Period.objects.get(pk=payout.ledger_entry.period_id)
    assert posting_period.code != "2026-Q3"
    [statement] = selectors.statements_for(period=posting_period, payee=alice)
    assert (statement.opening, statement.paid, statement.closing) == (1000, -1000, 0)


def test_a_balance_paid_in_a_later_period_is_not_paid_twice(finance) -> None:
    alice = UserFactory()
    agreement_make(payees=[alice], actor=finance)
    sell(["SKU-1,2026-07,EUR,1000.00,0,0"], actor=finance)
    services.royalty_run(period="2026-Q3")
    services.period_close(actor=finance, period="2026-Q3")
    [payout] = services.payouts_create(actor=finance, period="2026-Q3")
    services.payout_approve(actor=finance, payout=payout)
    services.payout_mark_paid(actor=finance, payout=payout, reference="BANK-1")
    assert services.payouts_create(actor=finance, period="2026-Q3") == []
    assert Payout.objects.count() == 1
