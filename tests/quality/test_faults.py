"""The fault drills' short forms (``make test-faults``): PostgreSQL and a private redis-server are required.

Each drill is a script under tests/benchmarks/ with a full form documented in its docstring; here each runs
small. Selected only with ``-m faults``; without PostgreSQL or redis-server the tests fail, they never skip.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

from tests.benchmarks import faults_asgi, faults_redis, faults_worker, load_mixed
from tests.benchmarks.drills import Platform, database_url_of_current_connection, platform

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def running(tmp_path: Path) -> Iterator[Platform]:
    if not settings.IS_POSTGRES:
        pytest.fail("the fault drills need PostgreSQL: set DATABASE_URL")
    if shutil.which("redis-server") is None:
        pytest.fail("the fault drills need redis-server")
    with platform(database_url_of_current_connection(), tmp_path) as started:
        yield started


def test_a_killed_worker_loses_no_email_and_sends_none_twice(running: Platform) -> None:
    figures = faults_worker.drill(running, members=240, kill_share=0.1)
    assert figures["unacked_at_kill"] + figures["queued_at_kill"] > 0, "the kill came after the last e-mail"
    assert figures["failing_checks"] == ["worker"]
    assert "heartbeat" in figures["worker_error"]
    assert figures["sent_while_down"] == 0
    assert figures["missing"] == []
    assert figures["duplicates"] == []


def test_clients_of_a_killed_asgi_process_resume_on_the_other_with_nothing_missing(running: Platform) -> None:
    figures = faults_asgi.drill(running, clients=6, seconds=12)
    assert figures["reconnects"] >= 3  # the half of the room on the killed process moved
    assert figures["messages_sent"] > 0
    assert figures["messages_lost"] == 0
    assert figures["messages_stored_twice"] == 0
    assert figures["unacked_at_end"] == 0
    assert figures["seq_contiguous"] is True
    assert figures["clients_missing_events"] == 0
    assert figures["clients_with_duplicates"] == 0
    assert set(figures["pages_from_survivor"]) == {200}


def test_a_redis_restart_degrades_pages_and_loses_no_email_and_no_chat(running: Platform) -> None:
    figures = faults_redis.drill(running, members=40, clients=4, down_seconds=6)
    assert faults_redis.pages_ok(figures), figures["pages"]
    assert any(key.startswith("redis-down ") for key in figures["pages"])
    assert {"cache", "channel_layer", "broker"} <= set(figures["failing_checks"])
    assert figures["outbox_rows_while_down"] >= 40  # the batch asked for during the outage waited there
    assert figures["email_missing"] == 0
    assert figures["email_duplicates"] == 0
    assert figures["outbox_rows_left"] == 0
    assert figures["chat_sent"] > 0
    assert figures["chat_lost"] == 0
    assert figures["chat_stored_twice"] == 0
    assert figures["chat_unacked_at_end"] == 0
    assert figures["seq_contiguous"] is True
    assert figures["clients_missing_events"] == 0
    assert figures["clients_with_duplicates"] == 0


def test_a_minute_of_mixed_load_on_two_processes_has_no_errors_and_leaves_every_count_consistent(
    running: Platform,
) -> None:
    running.manage("seed_demo", timeout=300)
    running.start_worker("worker")
    bases = running.start_web("web-a", "web-b")
    figures = load_mixed.run_load(bases, seconds=60, rate=6)
    assert figures["errors"] == 0, figures["first_errors"]
    assert set(figures["kinds"]) == {"browse", "support", "comment", "chat"}
    assert all(row["p99_ms"] > 0 for row in figures["kinds"].values())
    assert figures["chat_acked"] > 0
    assert load_mixed.consistent(figures), figures
