"""Every cache object of a process shares one Redis connection pool per server: under ASGI Django makes a cache
object per request, and a pool of its own opened a new Redis connection on every request."""

from __future__ import annotations

import contextvars

import pytest
from django.conf import settings
from django.core.cache import caches
from django.test import override_settings

from cocreate.cache import ResilientRedisCache


def in_a_new_request(function):  # type: ignore[no-untyped-def]
    """Run ``function`` with no context-local state, as Django runs each ASGI request (``caches`` is
    context-local, so it makes its cache objects anew)."""
    return contextvars.Context().run(function)


def test_cache_objects_of_separate_requests_share_one_pool() -> None:
    location = {"BACKEND": "cocreate.cache.ResilientRedisCache", "LOCATION": "redis://127.0.0.1:9/0"}
    with override_settings(CACHES={"default": location}):
        first, second = in_a_new_request(lambda: caches["default"]), in_a_new_request(lambda: caches["default"])
        assert first is not second
        assert first._cache._get_connection_pool(False) is second._cache._get_connection_pool(False)
        assert first._cache.get_client() is not None


def test_a_pool_for_another_server_is_its_own() -> None:
    one = ResilientRedisCache("redis://127.0.0.1:9/0", {})
    other = ResilientRedisCache("redis://127.0.0.1:9/1", {})
    assert one._cache._get_connection_pool(False) is not other._cache._get_connection_pool(False)


@pytest.mark.skipif(not settings.REDIS_URL, reason="needs Redis (REDIS_URL)")
def test_a_hundred_requests_open_no_new_redis_connection() -> None:
    def request() -> object:
        backend = caches["default"]
        backend.set("pool-test", 1)
        assert backend.get("pool-test") == 1
        return backend._cache._get_connection_pool(False)

    pool = in_a_new_request(request)
    opened = pool._created_connections  # the process's pool: earlier tests may have opened some
    pools = {id(in_a_new_request(request)) for _ in range(100)}
    assert pools == {id(pool)}
    assert pool._created_connections == opened
