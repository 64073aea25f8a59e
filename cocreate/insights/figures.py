"""From the selectors' rows to what the page shows: one ``Chart`` per figure with its table columns, the data the
chart library draws, and its CSV. Also the cache: figures are kept for ``INSIGHTS_CACHE_SECONDS`` (default 15
minutes) per set of filters, and the default set is recomputed by the ``refresh_figures`` beat task."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from cocreate.insights import rollups, selectors
from cocreate.insights.selectors import InsightFilters
from cocreate.models import Organisation
from ideas.models import Idea

CACHE_PREFIX = "insights:figure:v2:"
logger = logging.getLogger(__name__)


def cache_seconds() -> int:
    return int(getattr(settings, "INSIGHTS_CACHE_SECONDS", 15 * 60))


def _cache_key(name: str, filters: InsightFilters) -> str:
    return f"{CACHE_PREFIX}{name}:{filters.cache_key()}"


def _computed(name: str, filters: InsightFilters) -> dict[str, Any]:
    return {"value": selectors.METRICS[name](filters), "computed_at": timezone.now().isoformat()}


def figures_for(filters: InsightFilters) -> dict[str, Any]:
    """Every figure for ``filters``. Each figure has its own cache entry: only the missing ones are computed,
    and each is stored as soon as it is ready, so one slow figure neither delays nor invalidates the others.
    ``computed_at`` is the time of the oldest figure shown."""
    keys = {name: _cache_key(name, filters) for name in selectors.METRICS}
    cached = cache.get_many(list(keys.values()))
    figures: dict[str, Any] = {}
    times = []
    for name, key in keys.items():
        entry = cached.get(key)
        if entry is None:
            entry = _computed(name, filters)
            cache.set(key, entry, cache_seconds())
        figures[name] = entry["value"]
        times.append(entry["computed_at"])
    figures["computed_at"] = min(times)
    return figures


def figures_refresh(filters: InsightFilters | None = None) -> dict[str, Any]:
    """Bring the roll-ups up to date, then recompute every figure of ``filters`` (the page's default ones unless
    given) and replace its cached copy, one figure at a time: a figure that fails is logged and keeps its
    previous copy while the others are refreshed. Returns the figures refreshed and ``computed_at``."""
    filters = filters or InsightFilters.default()
    rollups.rollups_refresh(filters.months())
    refreshed: dict[str, Any] = {}
    for name in selectors.METRICS:
        try:
            entry = _computed(name, filters)
        except Exception:
            logger.exception("insights figure failed", extra={"figure": name})
            continue
        # Kept for two refresh periods, so a late beat never leaves the default page cold.
        cache.set(_cache_key(name, filters), entry, 2 * cache_seconds())
        refreshed[name] = entry["value"]
    refreshed["computed_at"] = timezone.now().isoformat()
    return refreshed


# --- Charts ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    key: str
    label: Promise | str
    kind: str = "number"  # number | percent | hours | text | money | tier | status


@dataclass(frozen=True)
class Chart:
    key: str
    title: Promise | str
    description: Promise | str
    columns: list[Column]
    rows: list[dict[str, Any]]
    chart: dict[str, Any]

    @property
    def empty(self) -> bool:
        return not self.rows


STAGE_LABELS: dict[str, Promise] = {
    "submitted": _("Submitted"),
    "published": _("Published"),
    "milestone": _("Reached a milestone"),
    "in_review": _("In review"),
    "approved": _("Approved"),
    "commercialised": _("Commercialised"),
}
TIER_LABELS = dict(Organisation.Tier.choices)


def _series(
    rows: list[dict[str, Any]], label_key: str, fields: list[tuple[str, Any]], **options: Any
) -> dict[str, Any]:
    return {
        "labels": [str(row[label_key]) for row in rows],
        "datasets": [{"label": str(label), "data": [row.get(field) for row in rows]} for field, label in fields],
        **options,
    }


def _pivot(
    rows: list[dict[str, Any]], *, label_key: str, group_key: str, value_key: str, group_label: Callable[[str], str]
) -> dict[str, Any]:
    """One dataset per group (tier, board) over the labels (months); a missing point stays empty, not 0."""
    labels = sorted({row[label_key] for row in rows})
    groups = list(dict.fromkeys(row[group_key] for row in rows))
    values = {(row[label_key], row[group_key]): row[value_key] for row in rows}
    return {
        "labels": labels,
        "datasets": [
            {"label": group_label(group), "data": [values.get((label, group)) for label in labels]} for group in groups
        ],
    }


def _funnel_stages(total: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if not total:
        return []
    row = total[0]
    return [
        {
            "stage": str(STAGE_LABELS[stage]),
            "ideas": row[stage],
            "rate": row.get(f"{stage}_rate"),
            "share": selectors.percentage(row[stage], row["submitted"]),
        }
        for stage in selectors.FUNNEL_STAGES
    ]


def charts_build(figures: dict[str, Any]) -> list[Chart]:
    """The page's charts, in reading order: observed behaviour, then perception, then future behaviour."""
    funnel = figures["funnel"]
    stage_columns = [Column(stage, label) for stage, label in STAGE_LABELS.items()]
    rate_columns = [
        Column(f"{stage}_rate", _("→ %(stage)s (%%)") % {"stage": STAGE_LABELS[stage]}, "percent")
        for stage in selectors.FUNNEL_STAGES[1:]
    ]
    stages = _funnel_stages(funnel["total"])
    times_columns = [
        Column("month", _("Month"), "text"),
        Column("count", _("Ideas measured")),
        Column("waiting", _("Still waiting")),
        Column("median_hours", _("Median (hours)"), "hours"),
        Column("p90_hours", _("90th percentile (hours)"), "hours"),
    ]
    nps_columns = [
        Column("responses", _("Answers")),
        Column("promoters", _("Promoters (9 to 10)")),
        Column("passives", _("Passives (7 to 8)")),
        Column("detractors", _("Detractors (0 to 6)")),
        Column("nps", _("NPS"), "score"),
    ]
    csat_columns = [
        Column("responses", _("Answers")),
        Column("average", _("Average (1 to 5)"), "score"),
        Column("satisfied", _("Satisfied (4 or 5)")),
        Column("satisfied_rate", _("Satisfied (%)"), "percent"),
    ]
    demand_columns = [
        Column("title", _("Idea"), "text"),
        Column("campaign", _("Campaign"), "text"),
        Column("status", _("Status"), "status"),
        Column("supporters", _("Supporters")),
        Column("accounts", _("Accounts")),
    ]
    participation = figures["participation"]
    return [
        Chart(
            "funnel",
            _("Idea funnel"),
            _("Ideas submitted in the period and how far they got; each stage as a share of the one before."),
            [
                Column("stage", _("Stage"), "text"),
                Column("ideas", _("Ideas")),
                Column("rate", _("Conversion from the previous stage (%)"), "percent"),
                Column("share", _("Share of submitted (%)"), "percent"),
            ],
            stages,
            _series(stages, "stage", [("ideas", _("Ideas"))], type="bar"),
        ),
        Chart(
            "funnel_by_campaign",
            _("Idea funnel per campaign"),
            _("The same stages per campaign, with the conversion from each stage to the next."),
            [
                Column("campaign", _("Campaign"), "text"),
                *stage_columns,
                *rate_columns,
                Column("overall_rate", _("Submitted → commercialised (%)"), "percent"),
            ],
            funnel["by_campaign"],
            _series(funnel["by_campaign"], "campaign", list(STAGE_LABELS.items()), type="bar"),
        ),
        Chart(
            "funnel_by_month",
            _("Idea funnel per month of submission"),
            _("Where the ideas submitted each month are now."),
            [
                Column("month", _("Month"), "text"),
                *stage_columns,
                Column("overall_rate", _("Submitted → commercialised (%)"), "percent"),
            ],
            funnel["by_month"],
            _series(funnel["by_month"], "month", list(STAGE_LABELS.items()), type="bar"),
        ),
        Chart(
            "first_response",
            _("Time to first official response"),
            _("Hours from publication to the first official response, for ideas published each month."),
            times_columns,
            figures["response_times"]["first_response"],
            _series(
                figures["response_times"]["first_response"],
                "month",
                [("median_hours", _("Median (hours)")), ("p90_hours", _("90th percentile (hours)"))],
                type="line",
            ),
        ),
        Chart(
            "moderation",
            _("Time in moderation"),
            _("Hours a submission waited for its moderation decision, per month of the decision."),
            times_columns,
            figures["response_times"]["moderation"],
            _series(
                figures["response_times"]["moderation"],
                "month",
                [("median_hours", _("Median (hours)")), ("p90_hours", _("90th percentile (hours)"))],
                type="line",
            ),
        ),
        Chart(
            "in_progress",
            _("Ideas in progress"),
            _("Ideas in review, approved or in development at the end of each month."),
            [
                Column("month", _("Month"), "text"),
                Column(Idea.Status.IN_REVIEW, Idea.Status.IN_REVIEW.label),
                Column(Idea.Status.APPROVED, Idea.Status.APPROVED.label),
                Column(Idea.Status.IN_DEVELOPMENT, Idea.Status.IN_DEVELOPMENT.label),
                Column("total", _("Total")),
            ],
            figures["in_progress"],
            _series(
                figures["in_progress"],
                "month",
                [(status, Idea.Status(status).label) for status in selectors.IN_PROGRESS],
                type="bar",
                stacked=True,
            ),
        ),
        Chart(
            "participation",
            _("Participation by tier"),
            _(
                "Active members (who submitted, supported, commented or took part in a session), supports, "
                "comments and session attendance per month and organisation tier."
            ),
            [
                Column("month", _("Month"), "text"),
                Column("tier", _("Tier"), "tier"),
                Column("active_members", _("Active members")),
                Column("supports", _("Supports")),
                Column("comments", _("Comments")),
                Column("attendance", _("Session attendance")),
            ],
            participation,
            _pivot(
                participation,
                label_key="month",
                group_key="tier",
                value_key="active_members",
                group_label=lambda tier: str(TIER_LABELS.get(tier, tier)),
            ),
        ),
        Chart(
            "attendance",
            _("Session attendance by tier"),
            _(
                "People who joined the advisory boards' live sessions (from the rooms' presence log, once per "
                "session), per month of the session and organisation tier."
            ),
            [
                Column("month", _("Month"), "text"),
                Column("sessions", _("Sessions")),
                *[Column(tier, label) for tier, label in TIER_LABELS.items()],
                Column("total", _("Total")),
            ],
            figures["attendance"],
            _series(
                figures["attendance"],
                "month",
                list(TIER_LABELS.items()),
                type="bar",
                stacked=True,
            ),
        ),
        Chart(
            "nps",
            _("Net Promoter Score over time"),
            _("% promoters minus % detractors, from the boards' session surveys and the quarterly survey."),
            [Column("month", _("Month"), "text"), *nps_columns],
            figures["nps"]["overall"],
            _series(figures["nps"]["overall"], "month", [("nps", _("NPS"))], type="line", min=-100, max=100),
        ),
        Chart(
            "nps_by_board",
            _("NPS per board"),
            _("Each advisory board's NPS over its sessions in the period."),
            [Column("board", _("Board"), "text"), Column("month", _("Month"), "text"), *nps_columns],
            figures["nps"]["by_board_month"],
            {
                **_pivot(
                    figures["nps"]["by_board_month"],
                    label_key="month",
                    group_key="board",
                    value_key="nps",
                    group_label=str,
                ),
                "type": "line",
                "min": -100,
                "max": 100,
            },
        ),
        Chart(
            "csat",
            _("Satisfaction (CSAT)"),
            _("Answers from 1 to 5 after an idea is closed or a session ends."),
            [Column("month", _("Month"), "text"), *csat_columns],
            figures["csat"]["by_month"],
            _series(
                figures["csat"]["by_month"], "month", [("average", _("Average (1 to 5)"))], type="bar", min=0, max=5
            ),
        ),
        Chart(
            "csat_by_tier",
            _("Satisfaction by tier"),
            _("The same answers by the respondent's tier when they answered."),
            [Column("tier", _("Tier"), "tier"), *csat_columns],
            figures["csat"]["by_tier"],
            {
                **_series(figures["csat"]["by_tier"], "tier", [("satisfied_rate", _("Satisfied (%)"))], type="bar"),
                "labels": [str(TIER_LABELS.get(row["tier"], row["tier"])) for row in figures["csat"]["by_tier"]],
                "min": 0,
                "max": 100,
            },
        ),
        Chart(
            "demand_accounts",
            _("Demand: ideas with the most accounts"),
            _("Active ideas by the number of customer organisations whose people support them."),
            demand_columns,
            figures["demand"]["by_accounts"],
            _series(
                figures["demand"]["by_accounts"], "title", [("accounts", _("Accounts"))], type="bar", horizontal=True
            ),
        ),
        Chart(
            "demand_revenue",
            _("Demand: ideas with the most revenue behind them"),
            _("Active ideas by the annual revenue of the organisations supporting them (each counted once)."),
            [*demand_columns, Column("revenue", _("Annual revenue"), "money")],
            figures["demand"]["by_revenue"],
            _series(
                figures["demand"]["by_revenue"],
                "title",
                [("revenue", _("Annual revenue"))],
                type="bar",
                horizontal=True,
            ),
        ),
    ]


def chart_by_key(figures: dict[str, Any], key: str) -> Chart | None:
    return next((chart for chart in charts_build(figures) if chart.key == key), None)


def cell_text(column: Column, value: Any) -> str:
    """A table cell as text; a missing value is "no data", never 0."""
    if value is None:
        return str(_("no data"))
    if column.kind == "percent":
        return f"{value:.1f} %"
    if column.kind in ("hours", "score"):
        return f"{value:.1f}"
    if column.kind == "tier":
        return str(TIER_LABELS.get(value, value))
    if column.kind == "status":
        return str(Idea.Status(value).label) if value in Idea.Status.values else str(value)
    if column.kind == "money":
        return f"{float(value):,.2f}"
    return str(value)


def chart_table(chart: Chart) -> list[list[str]]:
    return [[cell_text(column, row.get(column.key)) for column in chart.columns] for row in chart.rows]


def chart_csv_rows(chart: Chart) -> list[list[Any]]:
    """Header then raw values (an empty cell where there is no data)."""
    return [
        [str(column.label) for column in chart.columns],
        *[["" if row.get(c.key) is None else row.get(c.key) for c in chart.columns] for row in chart.rows],
    ]
