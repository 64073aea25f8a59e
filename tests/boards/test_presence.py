"""Who is in a live room, kept per socket: on Redis when REDIS_URL is set, in the local cache otherwise."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
import redis
from django.core.cache import cache

from boards import presence


def person(pk: int, name: str) -> Any:
    return SimpleNamespace(pk=pk, public_name=name)


@pytest.fixture
def room() -> Iterator[int]:
    """A session id no other test (nor an earlier run on the same Redis) uses; its entries go afterwards."""
    session_id = random.randrange(10**12, 10**13)
    yield session_id
    cache.delete(f"boards-presence-{session_id}")
    cache.delete(f"boards-presence-due-{session_id}")


def test_sockets_joining_at_the_same_instant_are_all_listed(room: int) -> None:
    """64 sockets beat at once, each from its own thread. Read, changed and written back as one value, the
    room's list kept only some of them."""
    count = 64
    start = threading.Barrier(count)

    def join(n: int) -> None:
        start.wait()
        presence.touch(session_id=room, channel=f"socket-{n}", user=person(n + 1, f"Member {n:02d}"))

    threads = [threading.Thread(target=join, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    listed = presence.people(session_id=room)
    assert [p["id"] for p in listed] == list(range(1, count + 1))
    assert [p["name"] for p in listed][:2] == ["Member 00", "Member 01"]


def test_a_change_is_reported_only_when_the_list_of_people_changes(room: int) -> None:
    ada, bo = person(1, "ada"), person(2, "Bo")
    assert presence.touch(session_id=room, channel="a-phone", user=ada) is True
    assert presence.touch(session_id=room, channel="a-phone", user=ada) is False  # a heartbeat changes nobody
    assert presence.touch(session_id=room, channel="a-laptop", user=ada) is False  # a second socket, same person
    assert presence.touch(session_id=room, channel="b", user=bo) is True
    assert presence.people(session_id=room) == [{"id": 1, "name": "ada"}, {"id": 2, "name": "Bo"}]

    assert presence.leave(session_id=room, channel="a-phone") is False  # still there on the laptop
    assert presence.leave(session_id=room, channel="a-laptop") is True
    assert presence.leave(session_id=room, channel="a-laptop") is False
    assert presence.people(session_id=room) == [{"id": 2, "name": "Bo"}]


def test_a_socket_silent_for_longer_than_the_ttl_leaves_the_list(room: int, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [1_000_000.0]
    monkeypatch.setattr(presence.time, "time", lambda: clock[0])
    presence.touch(session_id=room, channel="quiet", user=person(1, "Quiet"))
    clock[0] += presence.TTL - 1
    assert presence.touch(session_id=room, channel="busy", user=person(2, "Busy")) is True
    assert [p["name"] for p in presence.people(session_id=room)] == ["Busy", "Quiet"]

    clock[0] += 2  # "quiet" is now older than the TTL; "busy" beats and the list changes with it
    assert presence.touch(session_id=room, channel="busy", user=person(2, "Busy")) is True
    assert presence.people(session_id=room) == [{"id": 2, "name": "Busy"}]


def test_one_socket_sends_the_next_list_and_reading_it_frees_the_claim(room: int) -> None:
    assert presence.claim(session_id=room) is True
    assert presence.claim(session_id=room) is False
    presence.people(session_id=room)
    assert presence.claim(session_id=room) is True


def test_with_redis_away_presence_is_empty_and_nothing_raises(room: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Presence is lossy on purpose: a room keeps working while Redis is down, with nobody listed."""
    away = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    monkeypatch.setattr(presence, "_redis", lambda: away)
    assert presence.touch(session_id=room, channel="s", user=person(1, "Ada")) is False
    assert presence.leave(session_id=room, channel="s") is False
    assert presence.people(session_id=room) == []
