"""Who is in a live room: one entry per socket, in the cache, never in the database (presence is not stored).

With Redis, a room is one hash and each socket writes only its own field, so sockets beating at the same instant on
different processes never overwrite each other's entry. (One value for the whole room, read, changed and written
back, lost entries at 500 sockets: each lost entry came back at its socket's next heartbeat, and every come-back
sent the room's whole list to every socket again.)

Without Redis (the embedded defaults) the platform serves the room from one process, and a lock makes the same
read-change-write of one cached value whole.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from typing import Any

from django.core.cache import cache, caches

from cocreate.cache import UNREACHABLE, ResilientRedisCache

logger = logging.getLogger(__name__)

TTL = 60  # seconds without a heartbeat before a socket leaves the list
DEBOUNCE = 1.0  # seconds: joins and leaves within it go out as one list (a connect storm is not N²)

_lock = threading.Lock()


def _key(session_id: int) -> str:
    return f"boards-presence-{session_id}"


def _people(entries: dict[str, dict[str, Any]], now: float | None) -> list[dict[str, Any]]:
    """Everyone with an entry (fresh at ``now``, or any entry when it is None), once each however many sockets
    they have, sorted by name."""
    people = {e["id"]: e["name"] for e in entries.values() if now is None or e["seen"] > now - TTL}
    return [{"id": pk, "name": name} for pk, name in sorted(people.items(), key=lambda item: item[1].lower())]


def _redis() -> Any | None:
    """The Redis client behind the cache, or None when the cache is not Redis."""
    backend = caches["default"]
    return backend._cache.get_client(write=True) if isinstance(backend, ResilientRedisCache) else None


def _decode(raw: dict[bytes, bytes]) -> dict[str, dict[str, Any]]:
    return {channel.decode(): json.loads(value) for channel, value in raw.items()}


def _write(*, session_id: int, channel: str, entry: dict[str, Any] | None) -> bool:
    """Set (or, with ``entry`` None, remove) one socket's entry; True when the list of people changed."""
    now = time.time()
    client = _redis()
    if client is None:
        with _lock:
            entries: dict[str, dict[str, Any]] = cache.get(_key(session_id)) or {}
            before = _people(entries, None)  # stale entries are still there: their going is a change, once
            entries = {c: e for c, e in entries.items() if e["seen"] > now - TTL}
            if entry is None:
                entries.pop(channel, None)
            else:
                entries[channel] = entry
            cache.set(_key(session_id), entries, timeout=TTL * 2)
        return _people(entries, now) != before
    key = cache.make_and_validate_key(_key(session_id))
    pipe = client.pipeline(transaction=False)
    pipe.hgetall(key)
    if entry is None:
        pipe.hdel(key, channel)
    else:
        pipe.hset(key, channel, json.dumps(entry))
    pipe.expire(key, TTL * 2)
    raw, *_ = pipe.execute()
    entries = _decode(raw)
    before = _people(entries, None)  # stale entries are still there: their going is a change, once
    stale = [c for c, e in entries.items() if e["seen"] <= now - TTL and c != channel]
    if stale:
        client.hdel(key, *stale)
        for c in stale:
            del entries[c]
    if entry is None:
        entries.pop(channel, None)
    else:
        entries[channel] = entry
    return _people(entries, now) != before


def touch(*, session_id: int, channel: str, user: Any) -> bool:
    """This socket is in the room (now); True when the list of people changed."""
    try:
        return _write(
            session_id=session_id, channel=channel, entry={"id": user.pk, "name": user.public_name, "seen": time.time()}
        )
    except UNREACHABLE as exc:
        logger.warning("presence not kept, Redis unreachable: %s", exc)
        return False


def leave(*, session_id: int, channel: str) -> bool:
    """This socket left the room; True when the list of people changed (its user has no other socket there)."""
    try:
        return _write(session_id=session_id, channel=channel, entry=None)
    except UNREACHABLE as exc:
        logger.warning("presence not kept, Redis unreachable: %s", exc)
        return False


def claim(*, session_id: int) -> bool:
    """True for the one socket (of any process) that sends the room's next list, after ``DEBOUNCE``."""
    return bool(cache.add(f"boards-presence-due-{session_id}", 1, timeout=DEBOUNCE + 1))


def people(*, session_id: int) -> list[dict[str, Any]]:
    """The room's list, as sent to its sockets; frees the claim, so the next change sends a list again."""
    cache.delete(f"boards-presence-due-{session_id}")
    now = time.time()
    try:
        client = _redis()
        if client is None:
            return _people(cache.get(_key(session_id)) or {}, now)
        return _people(_decode(client.hgetall(cache.make_and_validate_key(_key(session_id)))), now)
    except UNREACHABLE as exc:
        logger.warning("presence not read, Redis unreachable: %s", exc)
        return []
