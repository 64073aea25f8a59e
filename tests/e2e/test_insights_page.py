"""The insights page in a browser, with the demo data: every chart drawn from the page's JSON under the strict CSP,
the tables beside them, a filter error, and a CSV download."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import login, shot

pytestmark = pytest.mark.e2e


@pytest.fixture
def demo(transactional_db: None) -> None:
    import boards.demo
    import ideas.demo
    from cocreate.demo import seed_core
    from cocreate.insights import demo as insights_demo

    people = seed_core()
    ideas.demo.seed_demo(people=people)
    boards.demo.seed_demo(people=people)
    insights_demo.seed_demo(people=people)


def test_a_product_manager_reads_the_insights_with_demo_data(page: Page, asgi_server: Any, demo: None) -> None:
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))

    login(page, asgi_server, "pm@example.com")
    page.get_by_role("link", name="Insights").click()
    expect(page.locator("h1")).to_have_text("Insights")
    for key in ("funnel", "nps", "csat", "demand_accounts", "demand_revenue"):
        expect(page.locator(f'canvas[data-chart="{key}"]')).to_have_attribute("data-drawn", "true")
    expect(page.get_by_test_id("insight-nps").locator("table tbody tr").first).to_be_visible()
    expect(page.get_by_test_id("insight-csat").locator("table")).to_contain_text("Average (1 to 5)")
    shot(page, "insights-01-page")

    page.get_by_test_id("insight-nps").scroll_into_view_if_needed()
    shot(page, "insights-02-nps")

    with page.expect_download() as download:
        page.get_by_test_id("insight-nps").get_by_role("link", name="CSV").click()
    assert download.value.suggested_filename.startswith("cocreate-nps-")
    assert problems == []  # Chart.js ran under the CSP without a single error

    page.fill("input[name=start]", "2026-03-01")
    page.fill("input[name=end]", "2026-01-01")
    page.get_by_test_id("insights-apply").click()
    expect(page.locator(".field-invalid")).to_contain_text("The end date must be on or after the start date.")
    shot(page, "insights-03-filter-error")
    # The page answers an invalid filter with 400, which the browser reports; nothing else went wrong.
    assert problems == ["Failed to load resource: the server responded with a status of 400 (Bad Request)"]
    problems.clear()

    page.fill("input[name=start]", "2020-01-01")
    page.fill("input[name=end]", "2020-03-31")
    page.get_by_test_id("insights-apply").click()
    expect(page.get_by_test_id("insight-nps")).to_contain_text("No data for these filters.")
    shot(page, "insights-04-empty-range")
    assert problems == []


def test_a_customer_is_refused(page: Page, asgi_server: Any, demo: None) -> None:
    login(page, asgi_server, "customer@example.com")
    expect(page.get_by_role("link", name="Insights")).to_have_count(0)
    response = page.goto(asgi_server.url + "/insights/")
    assert response is not None
    assert response.status == 403
