"""Version tokens in the shared cache, for copies of data that many processes keep (page routes, cached pages).

A copy is stored with the token it was built under and used only while the token is still current; a write that
changes the data replaces the token, so every process builds its copy again. The token is replaced when the
write happens and again when its transaction commits: a process that built a copy between the two read the data
as it was before the commit, and stored it under the first new token, which the second one replaces.
"""

from __future__ import annotations

import uuid

from django.core.cache import cache
from django.db import connection, transaction


def version_current(key: str) -> str:
    version = cache.get(key)
    if isinstance(version, str):
        return version
    cache.add(key, uuid.uuid4().hex, None)
    version = cache.get(key)
    # With the cache unreachable nothing can be shared: a fresh token each time means building every copy anew.
    return version if isinstance(version, str) else uuid.uuid4().hex


def version_replace(key: str) -> None:
    """Make every copy built under ``key``'s token stale: now, and again when the current transaction commits
    (outside a transaction the write is committed already, and once is enough)."""
    cache.set(key, uuid.uuid4().hex, None)
    if connection.in_atomic_block:
        transaction.on_commit(lambda: cache.set(key, uuid.uuid4().hex, None))
