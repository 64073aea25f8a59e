"""A Redis cache that degrades instead of failing when Redis is unreachable.

The cache only ever holds things that can be recomputed (figures, rate-limit counters, presence), so while
Redis is down a read is a miss and a write is dropped, and pages keep serving. ``/healthz`` still reports
the fault: its check writes and reads back a value, which fails. Each failure is logged.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)
UNREACHABLE = (RedisConnectionError, RedisTimeoutError, ConnectionError, TimeoutError)


def _warn(operation: str, exc: Exception) -> None:
    logger.warning("cache %s failed, Redis unreachable: %s", operation, exc)


# Connection pools by server and options, for the whole process: see ``SharedClientRedisCacheClient``.
_pools: dict[tuple[str, str], Any] = {}


class SharedClientRedisCacheClient(RedisCacheClient):
    """Django's client builds a new ``redis.Redis`` for every cache call, and building one (its table of response
    callbacks) cost about 1 ms of CPU per call on this project's machine, more than the round trip. One client per
    connection pool does the same: a ``redis.Redis`` is safe to share between threads (its pool hands each command
    a connection of its own).

    The pools are kept for the process, not per cache object: Django makes a cache object per thread and, under
    ASGI, per request (``caches`` is context-local), so a pool of its own meant a new Redis connection on every
    request, opened (TCP, then ``CLIENT SETINFO``, whose library version redis-py reads from the package metadata)
    and dropped again, about 1 ms of CPU per request. A pool is safe to share between threads, and after a fork
    it opens new connections by itself."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[Any, Any] = {}

    def _get_connection_pool(self, write: bool) -> Any:
        index = self._get_connection_pool_index(write)  # type: ignore[attr-defined]
        key = (self._servers[index], repr(sorted(self._pool_options.items())))  # type: ignore[attr-defined]
        pool = _pools.get(key)
        if pool is None:
            pool = _pools.setdefault(key, super()._get_connection_pool(write))  # type: ignore[misc]
        return pool

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        pool = self._get_connection_pool(write)
        client = self._clients.get(pool)
        if client is None:
            client = self._clients[pool] = self._client(connection_pool=pool)  # type: ignore[attr-defined]
        return client


class ResilientRedisCache(RedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = SharedClientRedisCacheClient

    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        try:
            return super().get(key, default, version)
        except UNREACHABLE as exc:
            _warn("get", exc)
            return default

    def get_many(self, keys: Any, version: int | None = None) -> dict[Any, Any]:
        try:
            return super().get_many(keys, version)
        except UNREACHABLE as exc:
            _warn("get_many", exc)
            return {}

    def set(self, key: Any, value: Any, timeout: Any = None, version: int | None = None) -> None:
        try:
            super().set(key, value, timeout, version)
        except UNREACHABLE as exc:
            _warn("set", exc)

    def set_many(self, data: dict[Any, Any], timeout: Any = None, version: int | None = None) -> list[Any]:
        try:
            return super().set_many(data, timeout, version)
        except UNREACHABLE as exc:
            _warn("set_many", exc)
            return list(data)

    def add(self, key: Any, value: Any, timeout: Any = None, version: int | None = None) -> bool:
        """While Redis is down every ``add`` succeeds: a rate limit lets the action through, and an
        idempotency key lets the e-mail go (sending twice is better than never)."""
        try:
            return bool(super().add(key, value, timeout, version))
        except UNREACHABLE as exc:
            _warn("add", exc)
            return True

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        try:
            return int(super().incr(key, delta, version))
        except UNREACHABLE as exc:
            _warn("incr", exc)
            return delta

    def delete(self, key: Any, version: int | None = None) -> bool:
        try:
            return bool(super().delete(key, version))
        except UNREACHABLE as exc:
            _warn("delete", exc)
            return False

    def has_key(self, key: Any, version: int | None = None) -> bool:
        try:
            return bool(super().has_key(key, version))
        except UNREACHABLE as exc:
            _warn("has_key", exc)
            return False

    def incr_expiring(self, key: Any, timeout: int, version: int | None = None) -> int:
        """Add one to ``key`` (created at 0) and keep it for ``timeout`` seconds more, in one round trip; returns
        the new value, or 1 while Redis is unreachable (as ``add`` lets the action through)."""
        try:
            client = self._cache.get_client(key, write=True)
            pipe = client.pipeline(transaction=False)
            pipe.incr(self.make_and_validate_key(key, version=version))
            pipe.expire(self.make_and_validate_key(key, version=version), timeout)
            count, _expiry_set = pipe.execute()
            return int(count)
        except UNREACHABLE as exc:
            _warn("incr_expiring", exc)
            return 1
