"""The insights page: who may see it, the numbers in its tables, filters with form errors, CSV exports, cache."""

from __future__ import annotations

import csv
import io
import re
from unittest import mock

import pytest
from django.test import Client

from cocreate.insights import figures, selectors
from cocreate.insights.selectors import InsightFilters
from cocreate.models import User
from tests.conftest import logged_in_client
from tests.insights.conftest import RANGE, World

URL = "/insights/"
Q1 = "start=2026-01-01&end=2026-03-31"


@pytest.mark.parametrize(
    ("who", "status"),
    [("customer", 403), ("board_member", 403), ("product_manager", 200), ("finance", 200), ("superuser", 200)],
)
def test_only_product_managers_and_staff_see_insights(
    request: pytest.FixtureRequest, site, who: str, status: int
) -> None:
    user: User = request.getfixturevalue(who)
    assert logged_in_client(user).get(URL).status_code == status
    assert logged_in_client(user).get("/insights/export/funnel.csv").status_code == status


def test_anonymous_visitors_are_sent_to_log_in(site) -> None:
    response = Client().get(URL)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
    assert Client().get("/insights/export/funnel.csv").status_code == 302


def test_the_nav_links_to_insights_for_staff_only(site, product_manager: User, customer: User) -> None:
    assert 'href="/insights/"' in logged_in_client(product_manager).get("/accounts/profile/").content.decode()
    assert 'href="/insights/"' not in logged_in_client(customer).get("/accounts/profile/").content.decode()


def test_the_page_shows_each_chart_with_its_numbers_in_a_table(world: World, product_manager: User) -> None:
    response = logged_in_client(product_manager).get(f"{URL}?{Q1}")
    assert response.status_code == 200
    html = response.content.decode()
    for key in (
        "funnel",
        "first_response",
        "moderation",
        "in_progress",
        "participation",
        "attendance",
        "nps",
        "csat",
        "demand_revenue",
    ):
        assert f'data-testid="insight-{key}"' in html
        assert f'data-chart="{key}"' in html
    assert "<td>66.7 %</td>" in html  # 2 of the 3 ideas past a milestone went into review
    assert "<td>28.6</td>" not in html  # the NPS table is per month: 100.0, 0.0, 33.3
    assert "<td>33.3</td>" in html
    assert "1,500,000.50" in html
    # Data reaches the chart script as JSON, never as inline JavaScript.
    assert 'id="insights-data" type="application/json"' in html
    assert not re.search(r"<script(?![^>]*(src=|type=\"application/json\"))[^>]*>", html)
    assert "chart-4.6.1.umd.min.js" in html


def test_a_range_without_data_says_so_instead_of_drawing_zeros(world: World, product_manager: User) -> None:
    html = logged_in_client(product_manager).get(f"{URL}?start=2024-01-01&end=2024-02-29").content.decode()
    assert html.count("No data for these filters.") == 12  # all but the two charts of today's demand
    assert 'data-chart="nps"' not in html


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("start=2026-03-01&end=2026-01-01", "end", "The end date must be on or after the start date."),
        ("start=yesterday&end=2026-01-01", "start", "Enter a valid date."),
        ("start=2026-01-01&end=2026-02-01&campaign=999999", "campaign", "Select a valid choice."),
        ("start=2026-01-01&end=2026-02-01&tier=platinum", "tier", "Select a valid choice."),
        ("start=2015-01-01&end=2026-02-01", "start", "Choose at most five years."),
    ],
)
def test_invalid_filters_give_a_form_error(site, product_manager: User, query: str, field: str, message: str) -> None:
    response = logged_in_client(product_manager).get(f"{URL}?{query}")
    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors[field])
    assert message.split(" ")[0] in response.content.decode()
    assert logged_in_client(product_manager).get(f"/insights/export/funnel.csv?{query}").status_code == 400


def test_filters_narrow_the_figures(world: World, product_manager: User) -> None:
    response = logged_in_client(product_manager).get(f"{URL}?{Q1}&campaign={world.campaign_b.pk}&tier=gold")
    assert response.status_code == 200
    funnel = next(item["chart"] for item in response.context["charts"] if item["chart"].key == "funnel")
    # Campaign B, gold creators: i4 (g2) and i5 (g1), both published, i4 past a milestone.
    assert [row["ideas"] for row in funnel.rows] == [2, 2, 1, 0, 0, 0]


def test_each_chart_exports_its_data_as_csv(world: World, product_manager: User) -> None:
    client = logged_in_client(product_manager)
    response = client.get(f"/insights/export/nps.csv?{Q1}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["Month", "Answers", "Promoters (9 to 10)", "Passives (7 to 8)", "Detractors (0 to 6)", "NPS"]
    assert rows[1:] == [
        ["2026-01", "1", "1", "0", "0", "100.0"],
        ["2026-02", "3", "1", "1", "1", "0.0"],
        ["2026-03", "3", "2", "0", "1", "33.3"],
    ]
    for item in client.get(f"{URL}?{Q1}").context["charts"]:
        assert client.get(f"/insights/export/{item['chart'].key}.csv?{Q1}").status_code == 200
    assert client.get(f"/insights/export/nothing.csv?{Q1}").status_code == 404


def test_csv_cells_that_look_like_formulas_are_defused(world: World, product_manager: User) -> None:
    world.campaign_a.title = "=HYPERLINK(1)"
    world.campaign_a.save()
    body = logged_in_client(product_manager).get(f"/insights/export/funnel_by_campaign.csv?{Q1}").content.decode()
    assert "'=HYPERLINK(1)" in body


def test_figures_come_from_the_cache_that_the_scheduled_task_refreshes(world: World, product_manager: User) -> None:
    from cocreate.insights.tasks import refresh_figures

    refresh_figures.delay()
    failing = {name: mock.Mock(side_effect=AssertionError("not cached")) for name in selectors.METRICS}
    with mock.patch.dict(selectors.METRICS, failing):
        assert logged_in_client(product_manager).get(URL).status_code == 200
        cached = figures.figures_for(InsightFilters.default())
    assert set(cached) == {*selectors.METRICS, "computed_at"}
    assert not any(metric.called for metric in failing.values())


def test_each_figure_is_cached_apart_so_a_failing_one_leaves_the_others_fresh(world: World) -> None:
    broken = mock.Mock(side_effect=RuntimeError("database went away"))
    with mock.patch.dict(selectors.METRICS, {"demand": broken}):
        refreshed = figures.figures_refresh(RANGE)
    assert "demand" not in refreshed
    assert "funnel" in refreshed
    # The page computes only the missing figure; the others come from the cache the refresh filled.
    spies = {name: mock.Mock(wraps=metric) for name, metric in selectors.METRICS.items()}
    with mock.patch.dict(selectors.METRICS, spies):
        shown = figures.figures_for(RANGE)
    assert [name for name, spy in spies.items() if spy.called] == ["demand"]
    assert shown["funnel"] == refreshed["funnel"]


def test_a_second_view_of_the_same_filters_runs_no_metric_query(
    world: World, product_manager: User, django_assert_max_num_queries
) -> None:
    client = logged_in_client(product_manager)
    client.get(f"{URL}?{Q1}")
    with django_assert_max_num_queries(12):
        assert client.get(f"{URL}?{Q1}").status_code == 200


def test_a_filter_without_dates_covers_the_last_twelve_months(world: World, product_manager: User) -> None:
    response = logged_in_client(product_manager).get(f"{URL}?tier=silver")
    assert response.status_code == 200
    filters = response.context["form"].filters()
    assert (filters.start, filters.end, filters.tier) == (
        InsightFilters.default().start,
        InsightFilters.default().end,
        "silver",
    )
