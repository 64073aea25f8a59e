from __future__ import annotations

import pytest
from django.test import Client

from cocreate import health

pytestmark = pytest.mark.django_db


def test_healthz_reports_every_service_up() -> None:
    response = Client().get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "cache", "channel_layer", "broker", "worker"}
    assert all(check["ok"] for check in body["checks"].values())


def test_healthz_reports_a_failing_service_with_503(monkeypatch: pytest.MonkeyPatch) -> None:
    def cache_down() -> None:
        raise ConnectionError("Connection refused")

    monkeypatch.setitem(health.CHECKS, "cache", cache_down)
    response = Client().get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"]["cache"] == {
        "ok": False,
        "error": "ConnectionError: Connection refused",
        "ms": body["checks"]["cache"]["ms"],
    }
    assert body["checks"]["database"]["ok"] is True


def test_healthz_only_answers_get() -> None:
    assert Client().post("/healthz").status_code == 405
