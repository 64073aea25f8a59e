from __future__ import annotations

import pytest

from cocreate.errors import RateLimitedError
from cocreate.ratelimit import rate_limit_check, rate_limit_hit


def test_actions_under_the_limit_pass_and_the_next_one_is_refused() -> None:
    results = [rate_limit_hit(scope="t", key=1, limit=3, period=60) for _ in range(4)]
    assert results == [True, True, True, False]


def test_limits_are_per_key_and_per_scope() -> None:
    for _ in range(3):
        rate_limit_hit(scope="t", key=1, limit=3, period=60)
    assert rate_limit_hit(scope="t", key=2, limit=3, period=60)
    assert rate_limit_hit(scope="other", key=1, limit=3, period=60)


def test_the_check_raises_a_429_error() -> None:
    rate_limit_check(scope="t", key="k", limit=1, period=60)
    with pytest.raises(RateLimitedError) as error:
        rate_limit_check(scope="t", key="k", limit=1, period=60)
    assert error.value.status_code == 429
