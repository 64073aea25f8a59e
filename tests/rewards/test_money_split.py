"""Largest-remainder splits: shares always sum to the total; leftover units go to the largest remainders, ties first."""

from __future__ import annotations

import random

import pytest

from rewards.money import BP_WHOLE, MoneyError, equal_shares_bp, split_by_shares, split_largest_remainder


def test_the_product_spec_worked_example_splits_4115_23_4115_23_4115_22() -> None:
    assert split_by_shares(1_234_568, equal_shares_bp(3)) == [411_523, 411_523, 411_522]


def test_equal_shares_give_the_leftover_basis_points_to_the_earlier_payees() -> None:
    assert equal_shares_bp(3) == [3334, 3333, 3333]
    assert equal_shares_bp(7) == [1429, 1429, 1429, 1429, 1428, 1428, 1428]
    assert sum(equal_shares_bp(7)) == BP_WHOLE


@pytest.mark.parametrize("payees", range(2, 8))
@pytest.mark.parametrize("total", [0, 1, 2, 3, 5, 6, 7, 11])
def test_tiny_amounts_among_two_to_seven_payees_sum_exactly_and_favour_earlier_payees(payees: int, total: int) -> None:
    parts = split_by_shares(total, equal_shares_bp(payees))
    assert sum(parts) == total
    assert parts == sorted(parts, reverse=True)
    assert max(parts) - min(parts) <= 1


def test_one_cent_among_two_equal_payees_goes_to_the_first() -> None:
    assert split_largest_remainder(1, [5000, 5000]) == [1, 0]


def test_leftover_goes_to_the_largest_fraction_not_the_largest_share() -> None:
    # 10 * 0.6667 = 6.667 (fraction .667), 10 * 0.3333 = 3.333 (fraction .333): the leftover unit goes to the first.
    assert split_largest_remainder(10, [6667, 3333]) == [7, 3]
    # 3 units at 10%/45%/45%: 0.3 / 1.35 / 1.35 → floors 0/1/1, fractions .3/.35/.35 → tie goes to the earlier (2nd).
    assert split_largest_remainder(3, [1000, 4500, 4500]) == [0, 2, 1]


def test_a_negative_total_mirrors_the_positive_split() -> None:
    assert split_by_shares(-1_234_568, equal_shares_bp(3)) == [-411_523, -411_523, -411_522]


@pytest.mark.parametrize("shares", [[5000, 4999], [5000, 5001], [10_000, 0], [-1, 10_001], []])
def test_shares_that_do_not_sum_to_10000_are_refused(shares: list[int]) -> None:
    with pytest.raises(MoneyError, match="10,000"):
        split_by_shares(100, shares)


def test_unequal_basis_point_shares_split_by_their_weights() -> None:
    assert split_by_shares(1_234_568, [3334, 3333, 3333]) == [411_523, 411_523, 411_522]
    assert split_by_shares(1_234_568, [3335, 3333, 3332]) == [411_728, 411_482, 411_358]
    assert split_by_shares(100, [7000, 3000]) == [70, 30]


def _random_shares(rng: random.Random, count: int) -> list[int]:
    cuts = sorted(rng.sample(range(1, BP_WHOLE), count - 1))
    return [b - a for a, b in zip([0, *cuts], [*cuts, BP_WHOLE], strict=True)]


def test_property_parts_always_sum_to_the_total_and_stay_within_one_unit_of_the_exact_share() -> None:
    rng = random.Random(20261123)
    for _ in range(5000):
        count = rng.randint(1, 9)
        shares = _random_shares(rng, count)
        total = rng.choice([rng.randint(-50, 50), rng.randint(-(10**12), 10**12)])
        assert sum(split_by_shares(total, shares)) == total
        parts = split_largest_remainder(total, shares)
        assert sum(parts) == total
        for part, share in zip(parts, shares, strict=True):
            exact = total * share / BP_WHOLE
            assert abs(part - exact) < 1


def test_property_the_split_is_the_same_whatever_else_happens_before() -> None:
    rng = random.Random(7)
    for _ in range(200):
        shares = _random_shares(rng, rng.randint(2, 7))
        total = rng.randint(0, 10**9)
        assert split_by_shares(total, shares) == split_by_shares(total, list(shares))
