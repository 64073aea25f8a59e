"""Version tokens in the shared cache, for copies of data that many processes keep (page routes, cached pages,
API tokens).

A copy is stored with the token it was built under and used only while the token is still current; a write that
changes the data replaces the token, so every process builds its copy again. The token is replaced when the
write happens and again when its transaction commits: a process that built a copy between the two read the data
as it was before the commit, and stored it under the first new token, which the second one replaces.

A request that checks several copies can read their tokens in one round trip (``versions_prefetched``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Generic, TypeVar

from django.core.cache import cache
from django.db import connection, transaction

_K = TypeVar("_K", bound=Hashable)
_V = TypeVar("_V")

# Tokens read at the start of the current request by ``versions_prefetched``.
_prefetched: ContextVar[dict[str, str] | None] = ContextVar("versions_prefetched", default=None)


def version_current(key: str) -> str:
    prefetched = _prefetched.get()
    if prefetched is not None and key in prefetched:
        return prefetched[key]
    version = cache.get(key)
    if isinstance(version, str):
        return version
    return _version_start(key)


def _version_start(key: str) -> str:
    cache.add(key, uuid.uuid4().hex, None)
    version = cache.get(key)
    # With the cache unreachable nothing can be shared: a fresh token each time means building every copy anew.
    return version if isinstance(version, str) else uuid.uuid4().hex


@contextmanager
def versions_prefetched(*keys: str) -> Iterator[None]:
    """Read the tokens of ``keys`` in one round trip; ``version_current`` answers them from that read until the
    block ends (one request: a token it reads is as current as one read a few milliseconds later)."""
    found = cache.get_many(keys)
    versions = {key: found[key] if isinstance(found.get(key), str) else _version_start(key) for key in keys}
    reset = _prefetched.set(versions)
    try:
        yield
    finally:
        _prefetched.reset(reset)


def version_replace(key: str) -> None:
    """Make every copy built under ``key``'s token stale: now, and again when the current transaction commits
    (outside a transaction the write is committed already, and once is enough)."""
    prefetched = _prefetched.get()
    if prefetched is not None:
        prefetched.pop(key, None)  # this request reads the new token from now on
    cache.set(key, uuid.uuid4().hex, None)
    if connection.in_atomic_block:
        transaction.on_commit(lambda: cache.set(key, uuid.uuid4().hex, None))


class KeptPerProcess(Generic[_K, _V]):
    """Values built once per process and used while ``version_key``'s token is current: the copies that page
    routes, campaigns and API tokens keep. Past ``max_entries`` the table starts again (a crawler or a flood of
    unknown keys cannot grow it without bound). A ``build`` that raises keeps nothing."""

    def __init__(self, version_key: str, max_entries: int) -> None:
        self.version_key = version_key
        self.max_entries = max_entries
        self._entries: dict[_K, tuple[str, _V]] = {}

    def get(self, key: _K, build: Callable[[], _V]) -> _V:
        # The token first: a write that commits while ``build`` reads replaces it after this read.
        version = version_current(self.version_key)
        found = self._entries.get(key)
        if found is None or found[0] != version:
            found = (version, build())
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
            self._entries[key] = found
        return found[1]
