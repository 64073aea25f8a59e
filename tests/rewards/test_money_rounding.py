"""The one rounding rule: Decimal → integer minor units, half-up or half-even, per ISO 4217 exponent."""

from __future__ import annotations

from decimal import Decimal

import pytest

from rewards.money import MoneyError, exact_minor, format_minor, from_minor, parse_amount, to_minor


@pytest.mark.parametrize(
    ("amount", "half_up", "half_even"),
    [
        ("0.005", 1, 0),
        ("0.015", 2, 2),
        ("0.025", 3, 2),
        ("2.675", 268, 268),
        ("-0.005", -1, 0),
        ("-0.015", -2, -2),
        ("12345.6789", 1234568, 1234568),
        ("0.0049999999999", 0, 0),
        ("0.0050000000001", 1, 1),
    ],
)
def test_exactly_half_a_cent_rounds_by_the_agreements_mode(amount: str, half_up: int, half_even: int) -> None:
    assert to_minor(Decimal(amount), "EUR", rounding="half_up") == half_up
    assert to_minor(Decimal(amount), "EUR", rounding="half_even") == half_even


@pytest.mark.parametrize(
    ("currency", "amount", "minor"),
    [
        ("JPY", "1234.5", 1235),
        ("JPY", "1233.5", 1234),
        ("USD", "1.005", 101),
        ("CNY", "0.125", 13),
        ("KWD", "1.0005", 1001),
    ],
)
def test_the_currency_exponent_decides_the_minor_unit(currency: str, amount: str, minor: int) -> None:
    assert to_minor(Decimal(amount), currency, rounding="half_up") == minor


def test_the_product_spec_worked_example_rounds_to_12345_68() -> None:
    royalty = Decimal("1234567.89") * 100 / 10_000
    assert royalty == Decimal("12345.6789")
    assert to_minor(royalty, "EUR", rounding="half_up") == 1_234_568


def test_a_float_is_refused() -> None:
    with pytest.raises(TypeError):
        to_minor(0.1, "EUR", rounding="half_up")  # type: ignore[arg-type]


def test_an_unknown_currency_or_mode_is_refused() -> None:
    with pytest.raises(MoneyError, match="Unknown currency"):
        to_minor(Decimal(1), "XXQ", rounding="half_up")
    with pytest.raises(MoneyError, match="rounding"):
        to_minor(Decimal(1), "EUR", rounding="banker")


def test_imported_amounts_must_be_whole_minor_units() -> None:
    assert exact_minor(Decimal("12.34"), "EUR") == 1234
    assert exact_minor(Decimal("1200"), "JPY") == 1200
    assert exact_minor(Decimal("1.234"), "KWD") == 1234
    with pytest.raises(MoneyError, match="decimal places"):
        exact_minor(Decimal("12.345"), "EUR")
    with pytest.raises(MoneyError, match="decimal places"):
        exact_minor(Decimal("1.5"), "JPY")


def test_minor_units_come_back_as_decimal_strings_with_the_currency_places() -> None:
    assert format_minor(411523, "EUR") == "4115.23"
    assert format_minor(-5, "USD") == "-0.05"
    assert format_minor(1200, "JPY") == "1200"
    assert format_minor(1, "KWD") == "0.001"
    assert from_minor(0, "EUR") == Decimal("0.00")


@pytest.mark.parametrize(
    "text", ["1,234.56", "1.234,56", "12e3", "abc", "", "  ", "1.2.3", "--1", "NaN", "Infinity", "١٢"]
)
def test_numbers_with_separators_exponents_or_words_are_not_amounts(text: str) -> None:
    with pytest.raises(MoneyError):
        parse_amount(text)


@pytest.mark.parametrize(("text", "value"), [("1234.56", "1234.56"), ("-3", "-3"), (" +0.50 ", "0.50"), (".5", "0.5")])
def test_plain_decimal_numbers_parse_exactly(text: str, value: str) -> None:
    assert parse_amount(text) == Decimal(value)
