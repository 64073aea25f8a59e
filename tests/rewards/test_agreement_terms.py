"""Agreements by hand: validated terms, versioned never in place, payee consent, an audit trail, finance only."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from cocreate.errors import ConflictError, DomainError, PermissionDeniedError
from rewards import services
from rewards.models import Agreement, AgreementTerms, AuditEntry, Period
from tests.factories import UserFactory
from tests.rewards.factories import agreement_make

pytestmark = pytest.mark.django_db


def _create(finance, **overrides):
    payees = overrides.pop("payees", [(UserFactory(), 6000), (UserFactory(), 4000)])
    terms = overrides.pop("terms", services.TermsInput(effective_from=datetime.date(2026, 1, 1)))
    return services.agreement_create(
        actor=finance,
        title="Desk",
        currency=overrides.pop("currency", "EUR"),
        terms=terms,
        payees=payees,
        product_codes=overrides.pop("product_codes", ["DESK-1"]),
    )


@pytest.mark.parametrize("shares", [(6000, 3999), (6000, 4001), (10_000, 0)])
def test_shares_that_do_not_sum_to_10000_are_refused_and_nothing_is_stored(finance, shares) -> None:
    payees = [(UserFactory(), shares[0]), (UserFactory(), shares[1])]
    with pytest.raises(DomainError, match="10,000"):
        _create(finance, payees=payees)
    assert not Agreement.objects.exists()


@pytest.mark.parametrize(
    ("terms", "message"),
    [
        (services.TermsInput(effective_from=datetime.date(2026, 1, 1), rate_bp=-1), "between 0 and 10,000"),
        (services.TermsInput(effective_from=datetime.date(2026, 1, 1), rounding="down"), "half_up or half_even"),
        (
            services.TermsInput(effective_from=datetime.date(2026, 1, 1), minimum_payout=Decimal("0.001")),
            "decimal places",
        ),
        (services.TermsInput(effective_from=datetime.date(2026, 1, 1), advance=Decimal("-5")), "negative"),
        (
            services.TermsInput(effective_from=datetime.date(2026, 1, 1), tiers=[{"up_to": "5", "rate_bp": 1}]),
            "last tier",
        ),
    ],
)
def test_bad_terms_are_refused(finance, terms, message) -> None:
    with pytest.raises(DomainError, match=message):
        _create(finance, terms=terms)
    assert not Agreement.objects.exists()


def test_an_unknown_currency_is_refused(finance) -> None:
    with pytest.raises(DomainError, match="Unknown currency"):
        _create(finance, currency="EUX")


def test_only_finance_may_create_agreements(customer, product_manager) -> None:
    for user in (customer, product_manager, None):
        with pytest.raises(PermissionDeniedError):
            _create(user)


def test_a_product_code_belongs_to_one_agreement(finance) -> None:
    _create(finance)
    with pytest.raises(ConflictError, match="DESK-1"):
        _create(finance)
    assert Agreement.objects.count() == 1


def test_a_terms_change_is_a_new_version_and_the_old_one_stays(finance) -> None:
    agreement = _create(finance)
    first = agreement.current_terms
    services.agreement_terms_change(
        actor=finance,
        agreement=agreement,
        terms=services.TermsInput(effective_from=datetime.date(2027, 1, 1), rate_bp=150),
    )
    first.refresh_from_db()
    assert first.rate_bp == 100
    assert list(agreement.terms.values_list("version", "rate_bp")) == [(1, 100), (2, 150)]
    assert agreement.terms_on(datetime.date(2026, 6, 1)).version == 1
    assert agreement.terms_on(datetime.date(2027, 6, 1)).version == 2
    assert AuditEntry.objects.filter(agreement=agreement, action="terms_version", actor=finance).count() == 2


def test_consent_carries_over_only_when_the_share_is_unchanged(finance) -> None:
    alice, bob = UserFactory(), UserFactory()
    agreement = _create(finance, payees=[(alice, 5000), (bob, 5000)])
    services.payee_consent(user=alice, agreement=agreement)
    services.payee_consent(user=bob, agreement=agreement)
    services.agreement_terms_change(
        actor=finance,
        agreement=agreement,
        terms=services.TermsInput(effective_from=datetime.date(2027, 1, 1)),
        payees=[(alice, 5000), (bob, 3000), (UserFactory(), 2000)],
    )
    consent = dict(agreement.current_terms.payees.values_list("user_id", "consented_at"))
    assert consent[alice.pk] is not None
    assert consent[bob.pk] is None


def test_consent_is_recorded_once_and_only_for_a_payee(finance, customer) -> None:
    alice = UserFactory()
    agreement = _create(finance, payees=[(alice, 10_000)])
    row = services.payee_consent(user=alice, agreement=agreement)
    again = services.payee_consent(user=alice, agreement=agreement)
    assert row.consented_at == again.consented_at
    assert AuditEntry.objects.filter(action="payee_consented").count() == 1
    with pytest.raises(PermissionDeniedError):
        services.payee_consent(user=customer, agreement=agreement)


def test_terms_cannot_take_effect_inside_a_closed_period(finance) -> None:
    agreement = _create(finance)
    Period.objects.create(
        code="2026-Q3", start=datetime.date(2026, 7, 1), end=datetime.date(2026, 9, 30), state="closed"
    )
    with pytest.raises(DomainError, match="closed period 2026-Q3"):
        services.agreement_terms_change(
            actor=finance, agreement=agreement, terms=services.TermsInput(effective_from=datetime.date(2026, 8, 1))
        )
    assert AgreementTerms.objects.count() == 1


def test_a_draft_is_activated_once_it_has_products_and_payees(finance) -> None:
    agreement = services.agreement_draft_open(
        idea_id=9, title="T", product_codes=[], launch_date=None, creator_ids=[UserFactory().pk]
    )
    with pytest.raises(DomainError, match="product code"):
        services.agreement_activate(actor=finance, agreement=agreement)
    services.agreement_products_add(actor=finance, agreement=agreement, codes=["T-1"])
    services.agreement_activate(actor=finance, agreement=agreement)
    assert Agreement.objects.get(pk=agreement.pk).status == Agreement.Status.ACTIVE


def test_the_currency_is_fixed_once_sales_exist(finance) -> None:
    agreement = agreement_make(actor=finance)
    services.agreement_update(actor=finance, agreement=agreement, currency="USD")
    assert agreement.currency == "USD"
    from tests.rewards.factories import sell

    sell(["SKU-1,2026-07,USD,10.00,0,0"], actor=finance)
    with pytest.raises(DomainError, match="currency cannot change"):
        services.agreement_update(actor=finance, agreement=agreement, currency="EUR")
