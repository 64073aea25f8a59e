"""Net-sales CSV imports: all or nothing, every bad row by row and column, no file or line twice, FX required."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from cocreate.errors import ConflictError, PermissionDeniedError
from rewards import services
from rewards.models import Period, SalesImport, SalesLine
from rewards.services import SalesImportError, sales_import_csv
from tests.rewards.factories import HEADER, agreement_make, csv_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def agreement(finance):
    return agreement_make(actor=finance, codes=["SKU-1", "SKU-2"])


def _errors(finance, content: bytes) -> list[dict]:
    before = SalesLine.objects.count()
    with pytest.raises(SalesImportError) as caught:
        sales_import_csv(actor=finance, file_name="f.csv", content=content)
    assert SalesLine.objects.count() == before
    return [e.as_dict() for e in caught.value.errors]


def test_a_good_file_stores_every_line_with_net_in_minor_units(finance, agreement) -> None:
    content = csv_bytes("SKU-1,2026-07,EUR,1000.00,50.25,10.10,DE,retail", "SKU-2,2026-08,EUR,5,0,0,FR,online")
    result = sales_import_csv(actor=finance, file_name="q3.csv", content=content)
    assert result.status == SalesImport.Status.COMPLETED
    assert result.progress == 100
    line = SalesLine.objects.get(product_code="SKU-1")
    assert (line.gross_minor, line.returns_minor, line.discounts_minor, line.net_minor) == (100000, 5025, 1010, 93965)
    assert line.month == datetime.date(2026, 7, 1)
    assert line.period.code == "2026-Q3"
    assert line.agreement == agreement
    assert SalesLine.objects.count() == 2


def test_optional_columns_may_be_left_out_and_columns_come_in_any_order(finance, agreement) -> None:
    content = b"currency,month,product_code,discounts,returns,gross_sales\nEUR,2026-07,SKU-1,0,0,12.00\n"
    sales_import_csv(actor=finance, file_name="f.csv", content=content)
    assert SalesLine.objects.get().net_minor == 1200


def test_every_bad_row_and_column_is_listed_and_nothing_is_imported(finance, agreement) -> None:
    content = csv_bytes(
        "SKU-1,2026-07,EUR,1000.00,0,0,DE,retail",
        "SKU-9,2026-13,EUX,1.000,abc,-1,DE,retail",
        "SKU-2,2026-7,EUR,1.234,0,0,DE,retail",
    )
    errors = _errors(finance, content)
    assert {(e["row"], e["column"]) for e in errors} == {
        (3, "product_code"),
        (3, "month"),
        (3, "currency"),
        (3, "returns"),
        (3, "discounts"),
        (4, "month"),
        (4, "gross_sales"),
    }
    assert any("Unknown product code SKU-9" in e["message"] for e in errors)
    failed = SalesImport.objects.get()
    assert failed.status == SalesImport.Status.FAILED
    assert len(failed.errors) == len(errors)


def test_the_same_file_twice_is_refused(finance, agreement) -> None:
    content = csv_bytes("SKU-1,2026-07,EUR,1000.00,0,0,DE,retail")
    sales_import_csv(actor=finance, file_name="a.csv", content=content)
    with pytest.raises(ConflictError, match="already imported"):
        sales_import_csv(actor=finance, file_name="b.csv", content=content)
    assert SalesLine.objects.count() == 1


def test_a_failed_file_may_be_sent_again_once_fixed_and_even_unchanged(finance, agreement) -> None:
    bad = csv_bytes("SKU-1,2026-07,EUR,abc,0,0,DE,retail")
    _errors(finance, bad)
    _errors(finance, bad)
    sales_import_csv(actor=finance, file_name="f.csv", content=csv_bytes("SKU-1,2026-07,EUR,1,0,0,DE,retail"))
    assert SalesLine.objects.count() == 1


def test_a_line_key_seen_in_the_file_or_before_is_refused(finance, agreement) -> None:
    errors = _errors(finance, csv_bytes("SKU-1,2026-07,EUR,1,0,0,DE,retail", "SKU-1,2026-07,EUR,2,0,0,DE,retail"))
    assert errors == [{"row": 3, "column": "product_code", "message": "The same line appears on row 2."}]
    sales_import_csv(actor=finance, file_name="f.csv", content=csv_bytes("SKU-1,2026-07,EUR,1,0,0,DE,retail"))
    errors = _errors(finance, csv_bytes("SKU-2,2026-07,EUR,1,0,0,DE,retail", "SKU-1,2026-07,EUR,9,0,0,DE,retail"))
    assert [(e["row"], "imported before" in e["message"]) for e in errors] == [(3, True)]


def test_an_erp_line_id_is_the_line_key_when_present(finance, agreement) -> None:
    header = "line_id,product_code,month,currency,gross_sales,returns,discounts"
    sales_import_csv(
        actor=finance,
        file_name="f.csv",
        content=csv_bytes("INV-1,SKU-1,2026-07,EUR,1,0,0", "INV-2,SKU-1,2026-07,EUR,2,0,0", header=header),
    )
    assert sorted(SalesLine.objects.values_list("line_key", flat=True)) == ["INV-1", "INV-2"]


def test_a_utf8_byte_order_mark_from_excel_is_accepted(finance, agreement) -> None:
    sales_import_csv(actor=finance, file_name="f.csv", content=b"\xef\xbb\xbf" + csv_bytes("SKU-1,2026-07,EUR,1,0,0,,"))
    assert SalesLine.objects.count() == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"\n\n  \n", "empty"),
        ("\ufeffproduct_code".encode("utf-16"), "UTF-16"),
        (b"product_code,month\xff\n", "not UTF-8"),
        (HEADER.encode() + b"\n", "no sales rows"),
        (b"product,month,currency,gross,returns,discounts\nSKU-1,2026-07,EUR,1,0,0\n", "header"),
        (b"product_code;month;currency;gross_sales;returns;discounts\nSKU-1;2026-07;EUR;1;0;0\n", "header"),
    ],
)
def test_malformed_files_are_refused_with_a_clear_message(finance, agreement, content, message) -> None:
    with pytest.raises(SalesImportError) as caught:
        sales_import_csv(actor=finance, file_name="f.csv", content=content)
    text = caught.value.message + " ".join(e.message for e in caught.value.errors)
    assert message.lower() in text.lower()
    assert not SalesLine.objects.exists()


def test_a_wrong_header_names_the_missing_and_unknown_columns(finance, agreement) -> None:
    errors = _errors(finance, b"product,month,currency,gross_sales,returns,discounts\nSKU-1,2026-07,EUR,1,0,0\n")
    assert errors[0]["row"] == 1
    assert "product_code" in errors[0]["message"]
    assert "product" in errors[1]["message"]


def test_semicolons_comma_decimal_separators_and_tabs_mixed_in_are_reported_by_row(finance, agreement) -> None:
    errors = _errors(
        finance,
        csv_bytes(
            "SKU-1;2026-07;EUR;1;0;0;DE;retail",
            "SKU-1,2026-08,EUR,1,5,0,0,DE,retail",
            "SKU-2\t2026-07\tEUR\t1\t0\t0\t\t",
        ),
    )
    assert [e["row"] for e in errors] == [2, 3, 4]
    assert "separator" in errors[0]["message"]
    assert "Expected 8 columns, found 9" in errors[1]["message"]


def test_a_missing_exchange_rate_is_an_error_not_a_guess(finance, agreement) -> None:
    errors = _errors(finance, csv_bytes("SKU-1,2026-07,USD,1,0,0,US,retail"))
    assert errors == [
        {"row": 2, "column": "currency", "message": "No USD→EUR rate for 2026-Q3: enter the period-end rate first."}
    ]
    services.fx_rate_set(actor=finance, period="2026-Q3", from_currency="USD", to_currency="EUR", rate=Decimal("0.9"))
    sales_import_csv(actor=finance, file_name="f.csv", content=csv_bytes("SKU-1,2026-07,USD,1,0,0,US,retail"))
    assert SalesLine.objects.get().currency == "USD"


def test_amounts_must_fit_the_sales_currency(finance, agreement) -> None:
    services.fx_rate_set(
        actor=finance, period="2026-Q3", from_currency="JPY", to_currency="EUR", rate=Decimal("0.0061")
    )
    errors = _errors(finance, csv_bytes("SKU-1,2026-07,JPY,100.5,0,0,JP,retail"))
    assert errors[0]["column"] == "gross_sales"
    assert "decimal places" in errors[0]["message"]


def test_returns_above_sales_give_a_negative_net(finance, agreement) -> None:
    sales_import_csv(actor=finance, file_name="f.csv", content=csv_bytes("SKU-1,2026-07,EUR,10,25,0,,"))
    assert SalesLine.objects.get().net_minor == -1500


def test_only_finance_may_import(customer, product_manager, agreement) -> None:
    for user in (customer, product_manager):
        with pytest.raises(PermissionDeniedError):
            sales_import_csv(actor=user, file_name="f.csv", content=csv_bytes("SKU-1,2026-07,EUR,1,0,0,,"))
    assert not SalesImport.objects.exists()


def test_progress_is_counted_for_long_files(finance, agreement) -> None:
    rows = [f"SKU-1,2026-07,EUR,1,0,0,T{n},C" for n in range(2500)]
    result = sales_import_csv(actor=finance, file_name="f.csv", content=csv_bytes(*rows))
    assert (result.rows_total, result.rows_done, result.progress) == (2500, 2500, 100)
    assert SalesLine.objects.count() == 2500


def test_sales_for_a_calculated_period_send_it_back_to_open(finance, agreement) -> None:
    sales_import_csv(actor=finance, file_name="a.csv", content=csv_bytes("SKU-1,2026-07,EUR,1,0,0,,"))
    services.royalty_run(period="2026-Q3")
    assert Period.objects.get(code="2026-Q3").state == Period.State.CALCULATED
    sales_import_csv(actor=finance, file_name="b.csv", content=csv_bytes("SKU-1,2026-08,EUR,1,0,0,,"))
    assert Period.objects.get(code="2026-Q3").state == Period.State.OPEN
