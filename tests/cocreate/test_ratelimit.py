from __future__ import annotations

import time

import pytest
from django.conf import settings
from django.core.cache import caches

from cocreate.cache import ResilientRedisCache
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


@pytest.mark.skipif(not settings.REDIS_URL, reason="runs in the PostgreSQL + Redis pass of CI (REDIS_URL)")
def test_on_redis_a_limit_costs_one_round_trip_and_its_window_expires() -> None:
    backend = caches["default"]
    assert isinstance(backend, ResilientRedisCache)
    sent: list[str] = []
    client = backend._cache.get_client(write=True)
    original = client.connection_pool.get_connection

    def counting(*args: object, **kwargs: object) -> object:
        sent.append("round trip")
        return original(*args, **kwargs)

    client.connection_pool.get_connection = counting  # type: ignore[method-assign]
    try:
        results = [rate_limit_hit(scope="redis", key=1, limit=2, period=60) for _ in range(3)]
    finally:
        client.connection_pool.get_connection = original  # type: ignore[method-assign]
    assert results == [True, True, False]
    assert len(sent) == 3
    window = int(time.time() // 60)
    ttl = client.ttl(backend.make_and_validate_key(f"rl:redis:1:{window}"))
    assert 0 < ttl <= 61
