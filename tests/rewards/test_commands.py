"""The shell commands do what the API does: import_sales, royalty_run, royalty_close, royalty_statements."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.core.management import CommandError, call_command

from rewards.models import LedgerEntry, Period, SalesLine
from tests.factories import UserFactory
from tests.rewards.factories import agreement_make, csv_bytes

pytestmark = pytest.mark.django_db


def _call(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_import_run_close_and_statements_from_the_shell(tmp_path, finance) -> None:
    alice, bob, carol = UserFactory(), UserFactory(), UserFactory()
    agreement_make(payees=[alice, bob, carol], actor=finance)
    path = tmp_path / "q3.csv"
    path.write_bytes(csv_bytes("SKU-1,2026-07,EUR,1234567.89,0,0,DE,retail"))
    assert "Imported 1 lines" in _call("import_sales", str(path), "--as", finance.email)
    assert "3 posting(s)" in _call("royalty_run", "2026-Q3", "--as", finance.email)
    assert "0 posting(s)" in _call("royalty_run", "2026-Q3", "--as", finance.email)
    assert "Closed 2026-Q3" in _call("royalty_close", "2026-Q3", "--as", finance.email)
    data = json.loads(_call("royalty_statements", "2026-Q3", "--format", "json"))
    assert [s["earned"] for s in data] == ["4115.23", "4115.23", "4115.22"]
    rows = list(csv.DictReader(io.StringIO(_call("royalty_statements", "2026-Q3", "--format", "csv"))))
    assert [r["closing"] for r in rows] == ["4115.23", "4115.23", "4115.22"]
    assert Period.objects.get(code="2026-Q3").state == "closed"
    assert LedgerEntry.objects.count() == 3


def test_a_bad_file_lists_its_errors_and_fails(tmp_path, finance) -> None:
    agreement_make(actor=finance)
    path = tmp_path / "bad.csv"
    path.write_bytes(csv_bytes("SKU-1,2026-7,EUR,1,0,0,,"))
    err = io.StringIO()
    with pytest.raises(CommandError, match="not imported"):
        call_command("import_sales", str(path), "--as", finance.email, stdout=io.StringIO(), stderr=err)
    assert "row 2, column month" in err.getvalue()
    assert not SalesLine.objects.exists()


def test_commands_need_a_finance_user_and_valid_periods(tmp_path, finance, customer) -> None:
    with pytest.raises(CommandError, match="finance user"):
        _call("royalty_run", "2026-Q3", "--as", customer.email)
    with pytest.raises(CommandError, match="calendar quarter"):
        _call("royalty_run", "2026-13", "--as", finance.email)
    with pytest.raises(CommandError, match="No file"):
        _call("import_sales", str(tmp_path / "missing.csv"), "--as", finance.email)
    with pytest.raises(CommandError, match="no period"):
        _call("royalty_statements", "2031-Q1")
