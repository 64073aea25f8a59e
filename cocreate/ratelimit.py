"""A fixed-window rate limit on the cache, shared by web views, the API and WebSocket consumers."""

from __future__ import annotations

import time

from django.core.cache import cache, caches
from django.utils.translation import gettext as _

from cocreate.cache import ResilientRedisCache
from cocreate.errors import RateLimitedError


def rate_limit_hit(*, scope: str, key: str | int, limit: int, period: int) -> bool:
    """Count one action; False once ``limit`` actions happened in the current ``period`` seconds."""
    window = int(time.time() // period)
    cache_key = f"rl:{scope}:{key}:{window}"
    backend = caches["default"]
    if isinstance(backend, ResilientRedisCache):  # one round trip instead of add, then incr
        return backend.incr_expiring(cache_key, period + 1) <= limit
    if cache.add(cache_key, 1, timeout=period + 1):
        return True
    try:
        count = cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.add(cache_key, 1, timeout=period + 1)
        return True
    return count <= limit


def rate_limit_check(*, scope: str, key: str | int, limit: int, period: int) -> None:
    """Raise ``RateLimitedError`` (429) when the action is over its limit."""
    if not rate_limit_hit(scope=scope, key=key, limit=limit, period=period):
        raise RateLimitedError(_("You are doing that too often. Please wait a moment and try again."))
