"""Statements per payee and period: opening, earned, adjustments, recouped, payable, carried forward, closing."""

from __future__ import annotations

import pytest

from cocreate.errors import PermissionDeniedError
from rewards import selectors, services
from rewards.models import Period
from tests.factories import UserFactory
from tests.rewards.factories import agreement_make, sell

pytestmark = pytest.mark.django_db


def test_a_statement_adds_up_across_periods_with_a_minimum_payout(finance) -> None:
    alice, bob = UserFactory(), UserFactory()
    agreement = agreement_make(payees=[alice, bob], minimum_payout="10.00", advance="1.00", actor=finance)
    sell(["SKU-1,2026-04,EUR,1000.00,0,0"], actor=finance)  # 10.00: 1.00 recouped, 9.00 → 4.50 each
    services.royalty_run(period="2026-Q2")
    q2 = Period.objects.get(code="2026-Q2")
    first = {s.payee.pk: s for s in selectors.statements_for(period=q2, agreement=agreement)}
    a = first[alice.pk]
    assert (a.opening, a.earned, a.recouped, a.closing, a.payable, a.carried_forward) == (0, 450, 50, 450, 0, 450)
    sell(["SKU-1,2026-07,EUR,1200.00,0,0"], actor=finance)  # 12.00 → 6.00 each
    services.royalty_run(period="2026-Q3")
    q3 = Period.objects.get(code="2026-Q3")
    a = next(s for s in selectors.statements_for(period=q3, payee=alice))
    assert (a.opening, a.earned, a.closing, a.payable, a.carried_forward) == (450, 600, 1050, 1050, 0)
    assert a.as_dict()["payable"] == "10.50"
    assert [line.net_minor for line in a.sales_lines()] == [120000]


def test_a_payee_sees_only_their_own_statement(finance) -> None:
    alice, bob = UserFactory(), UserFactory()
    agreement = agreement_make(payees=[alice, bob], actor=finance)
    sell(["SKU-1,2026-07,EUR,1000.00,0,0"], actor=finance)
    services.royalty_run(period="2026-Q3")
    q3 = Period.objects.get(code="2026-Q3")
    own = selectors.statement_get(viewer=alice, agreement_id=agreement.pk, payee_id=alice.pk, period=q3)
    assert own.earned == 500
    with pytest.raises(PermissionDeniedError):
        selectors.statement_get(viewer=alice, agreement_id=agreement.pk, payee_id=bob.pk, period=q3)
    assert selectors.statement_get(viewer=finance, agreement_id=agreement.pk, payee_id=bob.pk, period=q3).earned == 500
