"""Marginal tiers on cumulative net sales: each slice at its own rate, crossing a bound within one period."""

from __future__ import annotations

from decimal import Decimal

import pytest

from rewards.money import MoneyError, tiered_royalty, tiers_parse

TIERS = tiers_parse([{"up_to": "1000000.00", "rate_bp": 100}, {"up_to": None, "rate_bp": 200}], default_rate_bp=100)


def test_no_tiers_means_the_flat_rate() -> None:
    flat = tiers_parse([], default_rate_bp=100)
    assert tiered_royalty(cumulative_before=Decimal(0), net_sales=Decimal("1234567.89"), tiers=flat) == Decimal(
        "12345.6789"
    )


def test_sales_within_the_first_tier_earn_its_rate() -> None:
    assert tiered_royalty(cumulative_before=Decimal(0), net_sales=Decimal("500000"), tiers=TIERS) == Decimal("5000")


def test_a_period_that_crosses_the_bound_pays_each_slice_at_its_own_rate() -> None:
    # 900,000 already sold; 300,000 more: 100,000 at 1% + 200,000 at 2%.
    owed = tiered_royalty(cumulative_before=Decimal("900000"), net_sales=Decimal("300000"), tiers=TIERS)
    assert owed == Decimal("1000") + Decimal("4000")


def test_sales_above_the_bound_earn_the_higher_rate() -> None:
    assert tiered_royalty(cumulative_before=Decimal("2000000"), net_sales=Decimal("10.01"), tiers=TIERS) == Decimal(
        "0.2002"
    )


def test_returns_walk_back_down_the_tiers_and_cancel_the_sale_exactly() -> None:
    sold = tiered_royalty(cumulative_before=Decimal("900000"), net_sales=Decimal("300000"), tiers=TIERS)
    returned = tiered_royalty(cumulative_before=Decimal("1200000"), net_sales=Decimal("-300000"), tiers=TIERS)
    assert sold + returned == 0


def test_three_tiers_crossed_in_one_step() -> None:
    tiers = tiers_parse(
        [{"up_to": "100", "rate_bp": 100}, {"up_to": "200", "rate_bp": 200}, {"up_to": None, "rate_bp": 300}],
        default_rate_bp=100,
    )
    assert tiered_royalty(cumulative_before=Decimal(50), net_sales=Decimal(200), tiers=tiers) == Decimal("4")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ([{"up_to": "100", "rate_bp": 100}], "last tier"),
        ([{"up_to": None, "rate_bp": 100}, {"up_to": None, "rate_bp": 200}], "Only the last tier"),
        ([{"up_to": "200", "rate_bp": 100}, {"up_to": "100", "rate_bp": 100}, {"up_to": None, "rate_bp": 1}], "rise"),
        ([{"up_to": "-5", "rate_bp": 100}, {"up_to": None, "rate_bp": 1}], "rise"),
        ([{"up_to": None, "rate_bp": -1}], "between 0 and 10,000"),
        ([{"up_to": None, "rate_bp": 1.5}], "whole number"),
        ([{"up_to": 100.5, "rate_bp": 1}, {"up_to": None, "rate_bp": 1}], "float"),
        ([{"rate_bp": 100}], "needs"),
        ([{"up_to": "abc", "rate_bp": 100}, {"up_to": None, "rate_bp": 1}], "not a number"),
    ],
)
def test_malformed_tiers_are_refused(raw: list[dict[str, object]], message: str) -> None:
    with pytest.raises(MoneyError, match=message):
        tiers_parse(raw, default_rate_bp=100)


def test_a_negative_flat_rate_is_refused() -> None:
    with pytest.raises(MoneyError, match="between 0 and 10,000"):
        tiers_parse([], default_rate_bp=-5)
