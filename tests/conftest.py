"""Fixtures shared by every test: users for each role, API clients, and a clean cache."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.layers import channel_layers, get_channel_layer
from django.core.cache import cache
from django.test import Client
from rest_framework.test import APIClient

from cocreate.models import User
from cocreate.roles import Role
from tests.factories import OrganisationFactory, UserFactory


@pytest.fixture(autouse=True)
def _clear_cache() -> Iterator[None]:
    """Rate limits and cached figures live in the cache; no test may see another's."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _heartbeats_answered_at_once(settings: Any) -> None:
    """Live-room heartbeats are answered after a random delay of up to 5 s in production (spread out); tests that
    want the spread set it themselves."""
    settings.BOARDS_HEARTBEAT_SPREAD = 0


@pytest.fixture
def fresh_channel_layer() -> Iterator[None]:
    """An empty channel layer of the test's own: the Redis layer keeps locks bound to the loop that made them."""
    channel_layers.backends = {}
    layer = get_channel_layer()
    if hasattr(layer, "flush"):
        async_to_sync(layer.flush)()
    channel_layers.backends = {}
    yield
    channel_layers.backends = {}


@pytest.fixture
def site(db: None):
    """The Wagtail home page and default site (recreated if a transactional test flushed them)."""
    from cocreate.services import site_ensure

    return site_ensure()


@pytest.fixture
def customer(db: None) -> User:
    return UserFactory(roles=[Role.CUSTOMER], organisation=OrganisationFactory(tier="gold"))


@pytest.fixture
def other_customer(db: None) -> User:
    return UserFactory(roles=[Role.CUSTOMER], organisation=OrganisationFactory(tier="silver"))


@pytest.fixture
def board_member(db: None) -> User:
    return UserFactory(roles=[Role.CUSTOMER, Role.BOARD_MEMBER], organisation=OrganisationFactory(tier="gold"))


@pytest.fixture
def product_manager(db: None) -> User:
    return UserFactory(roles=[Role.PRODUCT_MANAGER], is_staff=True)


@pytest.fixture
def finance(db: None) -> User:
    return UserFactory(roles=[Role.FINANCE], is_staff=True)


@pytest.fixture
def superuser(db: None) -> User:
    return UserFactory(is_staff=True, is_superuser=True)


def logged_in_client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def api_client_for(user: User | None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client
