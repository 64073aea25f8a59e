"""A request that checks several per-process tables reads their versions in one cache round trip, and sees a
version it replaces itself at once."""

from __future__ import annotations

import uuid

from django.core.cache import cache

from cocreate.versions import version_current, version_replace, versions_prefetched


def test_versions_read_at_the_start_answer_for_the_whole_block() -> None:
    first, second = version_current("a-version"), version_current("b-version")
    with versions_prefetched("a-version", "b-version", "c-version"):
        cache.set("a-version", uuid.uuid4().hex, None)  # another process, during this request
        assert (version_current("a-version"), version_current("b-version")) == (first, second)
        started = version_current("c-version")
    assert version_current("a-version") != first
    assert version_current("c-version") == started  # a missing version is started once, in the cache


def test_a_version_replaced_inside_the_block_is_read_anew() -> None:
    with versions_prefetched("a-version"):
        before = version_current("a-version")
        version_replace("a-version")
        after = version_current("a-version")
        assert after != before
        assert after == cache.get("a-version")


def test_keys_not_prefetched_are_read_from_the_cache() -> None:
    with versions_prefetched("a-version"):
        cache.set("other-version", "x", None)
        assert version_current("other-version") == "x"
