"""With Redis unreachable, pages keep serving from the database and /healthz reports the fault."""

from __future__ import annotations

import pytest
from django.core.cache import caches
from django.test import Client, override_settings

from cocreate.models import HomePage
from cocreate.ratelimit import rate_limit_hit

# Port 9 (discard) is closed on this machine: every connection is refused at once.
UNREACHABLE_REDIS = {
    "default": {
        "BACKEND": "cocreate.cache.ResilientRedisCache",
        "LOCATION": "redis://127.0.0.1:9/0",
        "OPTIONS": {"socket_connect_timeout": 0.2},
    }
}
pytestmark = [pytest.mark.django_db]


@pytest.fixture
def redis_down():
    # override_settings makes Django drop its cache connections, so "default" is rebuilt from this.
    with override_settings(CACHES=UNREACHABLE_REDIS):
        yield caches["default"]


def test_reads_miss_and_writes_are_dropped_while_redis_is_down(redis_down) -> None:
    redis_down.set("k", "v")
    assert redis_down.get("k", "default") == "default"
    assert redis_down.get_many(["k"]) == {}
    assert redis_down.add("k", 1) is True
    assert redis_down.incr("k") == 1
    assert redis_down.delete("k") is False


def test_rate_limits_let_actions_through_while_redis_is_down(redis_down) -> None:
    assert all(rate_limit_hit(scope="t", key=1, limit=1, period=60) for _ in range(3))


def test_the_home_page_serves_and_healthz_reports_the_cache_fault(redis_down, site: HomePage) -> None:
    assert Client().get("/").status_code == 200
    response = Client().get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["cache"]["ok"] is False
    assert response.json()["checks"]["database"]["ok"] is True


def test_every_cache_call_shares_one_redis_client_per_connection_pool(redis_down) -> None:
    """Django builds a client per call otherwise (about 1 ms of CPU each); the pool and the outage handling stay."""
    clients = {id(redis_down._cache.get_client("a")), id(redis_down._cache.get_client("b", write=True))}
    assert len(clients) == 1
    assert redis_down.get("k", "default") == "default"
