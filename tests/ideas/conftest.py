from __future__ import annotations

import importlib.util
import sys
import types
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _rewards_services_module() -> Iterator[None]:
    """The rewards app builds ``rewards.services`` in parallel; until it lands, give ``mock.patch`` an empty
    module to patch ``agreement_draft_open`` into. Once it exists this does nothing."""
    if importlib.util.find_spec("rewards.services") is not None:
        yield
        return
    import rewards

    placeholder = types.ModuleType("rewards.services")
    sys.modules["rewards.services"] = placeholder
    rewards.services = placeholder  # type: ignore[attr-defined]
    try:
        yield
    finally:
        del sys.modules["rewards.services"]
        del rewards.services  # type: ignore[attr-defined]
