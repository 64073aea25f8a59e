"""Fuzz the REST API from its own OpenAPI schema (schemathesis), as every role in turn: no request may get a 500.

The default run draws a few examples per operation and role (about a minute); the ``benchmark`` run draws many::

    python -m pytest -m benchmark tests/quality/test_api_fuzz.py
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, Phase, given, settings
from rest_framework.authtoken.models import Token

from cocreate.wsgi import application
from tests.quality.world import ROLES, World, world_build

pytestmark = pytest.mark.django_db

DEFAULT_EXAMPLES = int(os.environ.get("COCREATE_FUZZ_EXAMPLES", "5"))


@contextmanager
def _connections_kept_open() -> Iterator[None]:
    """Django closes old connections at each request's start and end; the test client switches that off, and the
    in-process WSGI calls here must too, or the test transaction's connection is closed under it."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def world(db: None) -> World:
    return world_build()


def fuzz(world: World, role: str, *, examples: int) -> list[str]:
    """Every operation of the schema, ``examples`` generated requests each; returns the ones that got a 5xx."""
    with _connections_kept_open():
        schema = schemathesis.openapi.from_wsgi("/api/schema/", application)
    user = world.users[role]
    headers = {"Authorization": f"Token {Token.objects.get_or_create(user=user)[0].key}"} if user else {}
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(
            max_examples=examples,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def call(case: schemathesis.Case) -> None:
            # Each case in its own savepoint: a request that breaks the transaction (as a 500 on PostgreSQL
            # would) must not poison the cases after it, as it would not on a real server in autocommit.
            savepoint = transaction.savepoint()
            with _connections_kept_open():
                response = case.call(headers=headers)
            if response.status_code >= 500:
                transaction.savepoint_rollback(savepoint)
            else:
                transaction.savepoint_commit(savepoint)
            if response.status_code >= 500:
                failures.append(f"{role} {case.method} {case.formatted_path} {case.query} -> {response.status_code}")

        call()
    assert operations >= 25, f"the schema lists only {operations} operations"
    return failures


@pytest.mark.parametrize("role", ROLES)
def test_no_generated_request_gets_a_server_error(world: World, role: str) -> None:
    failures = fuzz(world, role, examples=DEFAULT_EXAMPLES)
    assert not failures, "\n".join(sorted(set(failures)))


@pytest.mark.benchmark
@pytest.mark.parametrize("role", ROLES)
def test_no_generated_request_gets_a_server_error_in_a_long_run(world: World, role: str) -> None:
    failures = fuzz(world, role, examples=200)
    assert not failures, "\n".join(sorted(set(failures)))


@pytest.mark.parametrize("params", [{"mine": "created"}, {"mine": "supported"}, {"tag": "light"}])
def test_searching_within_a_filter_answers_200(world: World, params: dict[str, str]) -> None:
    response = world.client("customer").get("/api/ideas/", {**params, "q": "lantern"})
    assert response.status_code == 200


def test_an_out_of_range_campaign_id_is_a_400(world: World) -> None:
    response = world.client("customer").post(
        "/api/ideas/",
        {"campaign": 2**70, "title": "t", "summary": "s", "description": "d", "terms_accepted": True},
        content_type="application/json",
    )
    assert response.status_code == 400
