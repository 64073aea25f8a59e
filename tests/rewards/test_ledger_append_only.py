"""The ledger is append-only: no update, no delete; corrections are a reversal plus a new entry in an open period."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import DatabaseError, connection, transaction

from cocreate.errors import ConflictError, DomainError
from rewards import services
from rewards.models import LedgerEntry, LedgerImmutableError
from tests.rewards.factories import agreement_make, sell

pytestmark = pytest.mark.django_db


@pytest.fixture
def entry(finance) -> LedgerEntry:
    agreement_make(actor=finance)
    sell(["SKU-1,2026-07,EUR,1000.00,0,0"], actor=finance)
    services.royalty_run(period="2026-Q3")
    return LedgerEntry.objects.get()


def test_an_entry_cannot_be_saved_again(entry) -> None:
    entry.amount_minor = 1
    with pytest.raises(LedgerImmutableError):
        entry.save()
    assert LedgerEntry.objects.get().amount_minor == 1000


def test_entries_cannot_be_updated_or_deleted_in_bulk_or_one_by_one(entry) -> None:
    with pytest.raises(LedgerImmutableError):
        LedgerEntry.objects.filter(pk=entry.pk).update(amount_minor=5)
    with pytest.raises(LedgerImmutableError):
        LedgerEntry.objects.all().delete()
    with pytest.raises(LedgerImmutableError):
        entry.delete()
    assert LedgerEntry.objects.get().amount_minor == 1000


@pytest.mark.skipif(not settings.IS_POSTGRES, reason="the trigger exists on PostgreSQL only")
def test_postgresql_refuses_raw_updates_and_deletes(entry) -> None:
    for sql in ("UPDATE rewards_ledgerentry SET amount_minor = 5", "DELETE FROM rewards_ledgerentry"):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
    assert LedgerEntry.objects.get().amount_minor == 1000


def test_an_open_periods_entry_is_fixed_by_running_again_not_by_hand(finance, entry) -> None:
    with pytest.raises(DomainError, match="not closed"):
        services.ledger_correct(actor=finance, entry=entry, amount_minor=900, memo="typo")


def test_a_closed_periods_entry_is_corrected_by_reversal_and_new_entry_in_an_open_period(finance, entry) -> None:
    services.period_close(actor=finance, period="2026-Q3")
    reversal, replacement = services.ledger_correct(actor=finance, entry=entry, amount_minor=900, memo="Wrong rate")
    assert reversal.amount_minor == -1000
    assert reversal.reversal_of == entry
    assert replacement is not None
    assert replacement.amount_minor == 900
    assert replacement.kind == LedgerEntry.Kind.ADJUSTMENT
    assert reversal.period.state != "closed"
    assert reversal.source_period == entry.period
    assert LedgerEntry.objects.get(pk=entry.pk).amount_minor == 1000
    with pytest.raises(ConflictError, match="already been reversed"):
        services.ledger_correct(actor=finance, entry=entry, amount_minor=None, memo="again")
    with pytest.raises(DomainError, match="cannot itself be reversed"):
        services.ledger_correct(actor=finance, entry=reversal, amount_minor=None, memo="undo")
