"""The ideas app opens a draft agreement on commercialisation; the call is idempotent per idea."""

from __future__ import annotations

import datetime

import pytest

from rewards.models import Agreement, AgreementProduct, AuditEntry, TermsPayee
from rewards.services import agreement_draft_open
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_a_draft_opens_with_equal_shares_consent_pending_and_a_title_snapshot() -> None:
    creator, co1, co2 = UserFactory(), UserFactory(), UserFactory()
    agreement = agreement_draft_open(
        idea_id=42,
        title="Modular desk organiser",
        product_codes=["DESK-1", "DESK-2"],
        launch_date=datetime.date(2026, 9, 1),
        creator_ids=[creator.pk, co1.pk, co2.pk],
    )
    assert agreement.status == Agreement.Status.DRAFT
    assert agreement.idea_id == 42
    assert agreement.title == "Modular desk organiser"
    terms = agreement.current_terms
    assert terms is not None
    assert terms.effective_from == datetime.date(2026, 9, 1)
    assert terms.rate_bp == 100
    assert terms.rounding == "half_up"
    payees = list(terms.payees.order_by("position"))
    assert [(p.user_id, p.share_bp) for p in payees] == [(creator.pk, 3334), (co1.pk, 3333), (co2.pk, 3333)]
    assert all(p.consented_at is None for p in payees)
    assert sorted(agreement.products.values_list("code", flat=True)) == ["DESK-1", "DESK-2"]
    assert AuditEntry.objects.filter(agreement=agreement, action="draft_opened").exists()


def test_a_second_call_for_the_same_idea_returns_the_same_agreement_and_changes_nothing() -> None:
    creator = UserFactory()
    first = agreement_draft_open(
        idea_id=7, title="A", product_codes=["X-1"], launch_date=None, creator_ids=[creator.pk]
    )
    counts = (Agreement.objects.count(), TermsPayee.objects.count(), AuditEntry.objects.count())
    second = agreement_draft_open(
        idea_id=7, title="B", product_codes=["X-2"], launch_date=None, creator_ids=[creator.pk, UserFactory().pk]
    )
    assert second.pk == first.pk
    assert second.title == "A"
    assert (Agreement.objects.count(), TermsPayee.objects.count(), AuditEntry.objects.count()) == counts
    assert not AgreementProduct.objects.filter(code="X-2").exists()


def test_a_product_code_held_by_another_agreement_is_skipped_and_noted() -> None:
    creator = UserFactory()
    agreement_draft_open(idea_id=1, title="One", product_codes=["SHARED"], launch_date=None, creator_ids=[creator.pk])
    second = agreement_draft_open(
        idea_id=2, title="Two", product_codes=["SHARED", "OWN"], launch_date=None, creator_ids=[creator.pk]
    )
    assert list(second.products.values_list("code", flat=True)) == ["OWN"]
    assert AuditEntry.objects.filter(agreement=second, action="product_code_conflict").exists()


def test_repeated_creator_ids_count_once() -> None:
    creator = UserFactory()
    agreement = agreement_draft_open(
        idea_id=3, title="T", product_codes=[], launch_date=None, creator_ids=[creator.pk, creator.pk]
    )
    assert list(agreement.current_terms.payees.values_list("share_bp", flat=True)) == [10_000]
