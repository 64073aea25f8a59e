"""The metric queries behind the insights page. Every figure is aggregated in the database; Python only reshapes
the grouped rows (one per month, campaign, board or tier); even the median and p90 are picked by rank in the
database (exact on SQLite and PostgreSQL alike). Participation, demand and response times read the roll-ups
of ``rollups.py`` (participation: whole months; the part months at the ends of a range from the source tables).

Every selector takes an ``InsightFilters`` and returns plain, JSON-ready rows (lists of dicts) so that the
figures can be cached, rendered as tables and charts, and exported as CSV from one structure. Months are
``YYYY-MM`` strings in the current time zone. A rate or score that has no data is ``None``, never 0.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import itertools
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import connection
from django.db.models import (
    Case,
    CharField,
    Count,
    DateTimeField,
    F,
    FloatField,
    Func,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
    Window,
)
from django.db.models.expressions import RowRange
from django.db.models.functions import Coalesce, Greatest, TruncMonth
from django.utils import timezone

from boards.models import BoardMembership, NpsResponse
from cocreate.insights import rollups
from cocreate.models import (
    ActivityMonth,
    BoardActivityMonth,
    BoardIdea,
    IdeaDemand,
    Organisation,
    ResponseWait,
    SessionPresence,
    Survey,
    SurveyAnswer,
)
from ideas.models import Comment, Idea, StatusChange, Support
from ideas.selectors import ACTIVE_STATUSES

TIERS: tuple[str, ...] = tuple(Organisation.Tier.values)
FUNNEL_STAGES: tuple[str, ...] = ("submitted", "published", "milestone", "in_review", "approved", "commercialised")
IN_PROGRESS: tuple[str, ...] = (Idea.Status.IN_REVIEW, Idea.Status.APPROVED, Idea.Status.IN_DEVELOPMENT)
DEMAND_LIMIT = 10


@dataclass(frozen=True)
class InsightFilters:
    """What the page is asked to show. ``end`` is inclusive; ``tier`` is an ``Organisation.Tier`` value or ""."""

    start: datetime.date
    end: datetime.date
    campaign_id: int | None = None
    board_id: int | None = None
    tier: str = ""

    @classmethod
    def default(cls, *, today: datetime.date | None = None) -> InsightFilters:
        """The last twelve calendar months, this one included."""
        today = today or timezone.localdate()
        year, month = today.year, today.month - 11
        if month < 1:
            year, month = year - 1, month + 12
        return cls(start=datetime.date(year, month, 1), end=today)

    @property
    def start_at(self) -> datetime.datetime:
        return timezone.make_aware(datetime.datetime.combine(self.start, datetime.time.min))

    @property
    def end_before(self) -> datetime.datetime:
        return timezone.make_aware(datetime.datetime.combine(self.end + datetime.timedelta(days=1), datetime.time.min))

    def cache_key(self) -> str:
        return f"{self.start:%Y%m%d}-{self.end:%Y%m%d}-c{self.campaign_id or ''}-b{self.board_id or ''}-t{self.tier}"

    def months(self) -> list[str]:
        """Every month the range touches, oldest first."""
        months = []
        year, month = self.start.year, self.start.month
        while (year, month) <= (self.end.year, self.end.month):
            months.append(f"{year:04d}-{month:02d}")
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return months


# --- Arithmetic -------------------------------------------------------------------------------------------------


def one_decimal(value: Decimal) -> float:
    """Round half up to one decimal place (33.35 → 33.4), the way figures are shown."""
    return float(value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def percentage(part: int, whole: int) -> float | None:
    """``part`` as a percentage of ``whole`` to one decimal; None (no data) when ``whole`` is 0."""
    if not whole:
        return None
    return one_decimal(Decimal(100 * part) / Decimal(whole))


def nps_score(*, promoters: int, detractors: int, responses: int) -> float | None:
    """Net Promoter Score: % promoters (9-10) minus % detractors (0-6), from -100 to 100, to one decimal."""
    if not responses:
        return None
    return one_decimal(Decimal(100 * (promoters - detractors)) / Decimal(responses))


def percentile(ordered: Sequence[float], fraction: float) -> float | None:
    """The ``fraction`` percentile of already sorted values, interpolating linearly between the two closest
    ranks (as PostgreSQL's ``percentile_cont`` does). None for no values."""
    if not ordered:
        return None
    position = (len(ordered) - 1) * fraction
    lower, upper = math.floor(position), math.ceil(position)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


def _hours(seconds: float | None) -> float | None:
    if seconds is None:
        return None
    return one_decimal(Decimal(str(seconds)) / Decimal(3600))


def _month_key(value: Any) -> str:
    """A month from TruncMonth (a date or datetime) or from raw SQL (a datetime, or a string on SQLite)."""
    if isinstance(value, datetime.datetime | datetime.date):
        return f"{value:%Y-%m}"
    return str(value)[:7]


def _month_of(field: str, filters: InsightFilters) -> Case:
    """The ``YYYY-MM`` month (in the current time zone) of ``field``, for rows already limited to the range: one
    comparison per month boundary, computed by the engine itself. (``TruncMonth`` and ``Extract*`` call a Python
    function per row on SQLite, which costs seconds over a hundred thousand rows.)"""
    whens = []
    for month in filters.months():
        year, number = int(month[:4]), int(month[5:7])
        following = datetime.date(year + number // 12, number % 12 + 1, 1)
        boundary = timezone.make_aware(datetime.datetime.combine(following, datetime.time.min))
        whens.append(When(**{f"{field}__lt": boundary}, then=Value(month)))
    return Case(*whens, default=None, output_field=CharField())


class WaitSeconds(Func):
    """Seconds from ``start`` to ``end`` (a float; null if either is null), natively on both engines."""

    template = "EXTRACT(EPOCH FROM (%(expressions)s))"
    arg_joiner = " - "
    output_field = FloatField()

    def __init__(self, end: Any, start: Any) -> None:
        super().__init__(end, start)

    def as_sqlite(self, compiler: Any, connection: Any, **extra_context: Any) -> tuple[str, Any]:
        template = "((julianday(%(expressions)s)) * 86400.0)"
        return self.as_sql(compiler, connection, template=template, arg_joiner=") - julianday(", **extra_context)


def _rows(queryset: Iterable[Any]) -> list[dict[str, Any]]:
    """Grouped ``values()`` rows as plain dicts (their keys are only known at run time)."""
    return [dict(row) for row in queryset]


def _sql(queryset: QuerySet[Any]) -> tuple[str, tuple[Any, ...]]:
    sql, params = queryset.query.sql_with_params()
    return sql, tuple(params)


# --- The idea funnel ----------------------------------------------------------------------------------------------


def board_ideas(board_id: int) -> QuerySet[Idea, Any]:
    """The ideas a board speaks for, as the board filter narrows the idea figures: those created or supported by
    people of the organisations that have a member on the board (as a subquery of idea ids)."""
    organisations = BoardMembership.objects.filter(board_id=board_id, user__organisation__isnull=False).values(
        "user__organisation_id"
    )
    supported = Support.objects.filter(user__organisation_id__in=organisations).values("idea_id")
    return (
        Idea.objects.filter(Q(creator__organisation_id__in=organisations) | Q(pk__in=supported)).order_by().values("pk")
    )


def _rolled_up_board_ideas(board_id: int) -> QuerySet[Any]:
    """``board_ideas`` from ``BoardIdea`` (built first if it never was), as a subquery of idea ids."""
    rollups.board_ideas_ensure()
    return BoardIdea.objects.filter(board_id=board_id).values("idea_id")


def _of_ideas(
    queryset: QuerySet[Any], filters: InsightFilters, idea_path: str = "idea", *, rolled_up: bool = False
) -> QuerySet[Any]:
    """``queryset`` of rows about ideas (reached through ``idea_path``; "" for ideas themselves) narrowed by the
    campaign and board filters; with ``rolled_up``, the board's ideas are read from ``BoardIdea``."""
    campaign, idea = (f"{idea_path}__campaign_id", idea_path) if idea_path else ("campaign_id", "pk")
    if filters.campaign_id:
        queryset = queryset.filter(**{campaign: filters.campaign_id})
    if filters.board_id:
        ideas = _rolled_up_board_ideas(filters.board_id) if rolled_up else board_ideas(filters.board_id)
        queryset = queryset.filter(**{f"{idea}__in": ideas})
    return queryset


def _ideas(filters: InsightFilters, *, submitted: bool = True) -> QuerySet[Idea]:
    """Ideas of the chosen campaign, board and creator tier; with ``submitted``, only those submitted in the
    range."""
    ideas = Idea.objects.order_by()
    if submitted:
        ideas = ideas.filter(created_at__gte=filters.start_at, created_at__lt=filters.end_before)
    ideas = _of_ideas(ideas, filters, "")
    if filters.tier:
        ideas = ideas.filter(creator__organisation__tier=filters.tier)
    return ideas


# The furthest stage an idea reached, as an index into FUNNEL_STAGES.
STATUS_STAGE = {
    Idea.Status.COMMERCIALISED: 5,
    Idea.Status.APPROVED: 4,
    Idea.Status.IN_DEVELOPMENT: 4,
    Idea.Status.IN_REVIEW: 3,
    Idea.Status.NOT_APPROVED: 3,
}
HISTORY_STAGE = {Idea.Status.COMMERCIALISED: 5, Idea.Status.APPROVED: 4, Idea.Status.IN_REVIEW: 3}


def _furthest_stage(filters: InsightFilters) -> Greatest:
    """Each idea's furthest stage by the end of the range, from its status history and its own timestamps
    (publication, first milestone), whichever went further, so an idea archived while in review still counts as
    published, past a milestone and in review. The current status counts too, but only for ideas unchanged since
    the range ended (it was already their status then). One correlated subquery per idea; the stage is grouped
    on, never repeated in several filters."""
    end = filters.end_before
    history = (
        StatusChange.objects.filter(idea=OuterRef("pk"), to_status__in=list(HISTORY_STAGE), created_at__lt=end)
        .order_by()
        .values("idea")
        .annotate(
            stage=Max(
                Case(*[When(to_status=status, then=Value(stage)) for status, stage in HISTORY_STAGE.items()], default=0)
            )
        )
        .values("stage")
    )
    return Greatest(Coalesce(Subquery(history, output_field=IntegerField()), Value(0)), _current_stage(filters))


def _current_stage(filters: InsightFilters) -> Case:
    """The furthest stage an idea's own fields show by the end of the range (see ``_furthest_stage``)."""
    end = filters.end_before
    return Case(
        *[When(status=status, updated_at__lt=end, then=Value(stage)) for status, stage in STATUS_STAGE.items()],
        When(first_milestone_at__lt=end, then=Value(2)),
        When(published_at__lt=end, then=Value(1)),
        default=Value(0),
    )


def _funnel_row(stage_counts: dict[int, int]) -> dict[str, Any]:
    """Stage counts from ``{furthest stage: ideas}``: an idea counts at its furthest stage and every earlier one."""
    row = {
        stage: sum(n for furthest, n in stage_counts.items() if furthest >= index)
        for index, stage in enumerate(FUNNEL_STAGES)
    }
    return _with_conversion(row)


def _with_conversion(row: dict[str, Any]) -> dict[str, Any]:
    """Add ``<stage>_rate`` (% of the previous stage) and ``overall_rate`` (% of submitted reaching the end)."""
    for previous, stage in itertools.pairwise(FUNNEL_STAGES):
        row[f"{stage}_rate"] = percentage(row[stage], row[previous])
    row["overall_rate"] = percentage(row["commercialised"], row["submitted"])
    return row


def idea_funnel(filters: InsightFilters) -> dict[str, list[dict[str, Any]]]:
    """Ideas submitted in the range and how far they had got by its end: per campaign, per month of submission,
    and in total. Months without submissions are absent (no zero rows). Two grouped queries."""
    # Only ideas with a review, approval or commercialisation in their history need the history read; the
    # others (most of them) are grouped on their own fields alone.
    reviewed = StatusChange.objects.filter(to_status__in=list(HISTORY_STAGE), created_at__lt=filters.end_before).values(
        "idea_id"
    )
    ideas = _ideas(filters).annotate(month=_month_of("created_at", filters))
    grouped = [
        *_rows(
            ideas.exclude(pk__in=reviewed)
            .annotate(furthest=_current_stage(filters))
            .values("campaign_id", "campaign__title", "month", "furthest")
            .annotate(n=Count("pk"))
        ),
        *_rows(
            ideas.filter(pk__in=reviewed)
            .annotate(furthest=_furthest_stage(filters))
            .values("campaign_id", "campaign__title", "month", "furthest")
            .annotate(n=Count("pk"))
        ),
    ]
    by_campaign: dict[tuple[str, int], dict[int, int]] = {}
    by_month: dict[str, dict[int, int]] = {}
    total: dict[int, int] = {}
    for row in grouped:
        furthest, n = row["furthest"], row["n"]
        for counts in (
            by_campaign.setdefault((row["campaign__title"], row["campaign_id"]), {}),
            by_month.setdefault(_month_key(row["month"]), {}),
            total,
        ):
            counts[furthest] = counts.get(furthest, 0) + n
    return {
        "by_campaign": [
            {"campaign": title, **_funnel_row(counts)} for (title, _pk), counts in sorted(by_campaign.items())
        ],
        "by_month": [{"month": month, **_funnel_row(counts)} for month, counts in sorted(by_month.items())],
        "total": [_funnel_row(total)] if total else [],
    }


# --- Response times -----------------------------------------------------------------------------------------------


# The ranks (0-based, of n sorted values) that the median and p90 interpolate between, in integer arithmetic
# that both engines share: floor((n - 1) x f) and ceil((n - 1) x f) for f = 5/10 and 9/10.
_RANKS = "rn IN ((cnt - 1) * 5 / 10, ((cnt - 1) * 5 + 9) / 10, (cnt - 1) * 9 / 10, ((cnt - 1) * 9 + 9) / 10)"


def _wait_summaries(inner_sql: str, params: tuple[Any, ...]) -> list[dict[str, Any]]:
    """Per month, from a query of ``month`` and ``wait`` in seconds (null while still waiting): how many waits
    ended, how many are still waiting, and the median and p90 in hours. The database ranks the waits of each
    month and returns only the (at most four) around the two percentiles, so no month's rows are read into
    Python."""
    with connection.cursor() as cursor:
        # One pass: each month's waits ranked (the still-waiting ones apart), with the month's counts; kept are
        # the ranks around the percentiles, and one row for a month where everything is still waiting.
        cursor.execute(
            "SELECT month, rn, wait, done, total FROM (SELECT month, wait, "  # noqa: S608
            "ROW_NUMBER() OVER (PARTITION BY month, wait IS NULL ORDER BY wait) - 1 AS rn, "
            "COUNT(wait) OVER (PARTITION BY month) AS done, COUNT(*) OVER (PARTITION BY month) AS total, "
            f"COUNT(wait) OVER (PARTITION BY month) AS cnt FROM ({inner_sql}) w) ranked "
            f"WHERE (wait IS NULL AND rn = 0) OR (wait IS NOT NULL AND {_RANKS})",
            params,
        )
        counts: dict[str, tuple[int, int]] = {}
        picked: dict[str, dict[int, float]] = {}
        for month, rank, wait, done, total in cursor.fetchall():
            counts[month] = (int(total), int(done))
            if wait is not None:
                picked.setdefault(month, {})[int(rank)] = max(float(wait), 0.0)
    rows = []
    for month, (total, done) in sorted(counts.items()):
        values = picked.get(month, {})
        rows.append(
            {
                "month": month,
                "count": done,
                "waiting": total - done,
                "median_hours": _hours(_percentile_of(values, done, 0.5)),
                "p90_hours": _hours(_percentile_of(values, done, 0.9)),
            }
        )
    return rows


def _percentile_of(ranked: dict[int, float], n: int, fraction: float) -> float | None:
    """``percentile`` of ``n`` sorted values of which only the ranks around the percentile are known."""
    if not n:
        return None
    position = (n - 1) * fraction
    lower, upper = math.floor(position), math.ceil(position)
    return ranked[lower] + (ranked[upper] - ranked[lower]) * (position - lower)


def _moderation_waits(filters: InsightFilters) -> tuple[str, tuple[Any, ...]]:
    """A query of ``month`` and ``wait`` (seconds) for each moderation decision taken in the range, counted from
    the latest (re)submission before it. PostgreSQL takes the running maximum of each idea's submission times in
    one ordered pass; SQLite, which evaluates that window slowly (21 s against 4 s measured at 100,000 ideas),
    looks the submission up per decision through the ``status_change_idea_to`` index."""
    history = _of_ideas(StatusChange.objects.filter(created_at__lt=filters.end_before).order_by(), filters)
    if filters.tier:
        history = history.filter(idea__creator__organisation__tier=filters.tier)
    decided = Q(
        from_status=Idea.Status.PENDING,
        to_status__in=rollups.MODERATION_OUTCOMES,
        actor__isnull=False,
        created_at__gte=filters.start_at,
    )
    if connection.vendor != "postgresql":
        submitted_at = (
            StatusChange.objects.filter(
                idea=OuterRef("idea"), to_status=Idea.Status.PENDING, created_at__lte=OuterRef("created_at")
            )
            .order_by("-created_at", "-pk")
            .values("created_at")[:1]
        )
        return _sql(
            history.filter(decided)
            .annotate(month=_month_of("created_at", filters), wait=WaitSeconds(F("created_at"), Subquery(submitted_at)))
            .values_list("month", "wait")
        )
    history_sql, params = _sql(
        history.annotate(
            submitted=Window(
                Max(Case(When(to_status=Idea.Status.PENDING, then=F("created_at")), output_field=DateTimeField())),
                partition_by=[F("idea_id")],
                order_by=[F("created_at").asc(), F("pk").asc()],
                frame=RowRange(start=None, end=0),
            ),
            month=_month_of("created_at", filters),
            decision=Case(When(decided, then=Value(1)), default=Value(0), output_field=IntegerField()),
        ).values("month", "decision", "created_at", "submitted")
    )
    wait = "EXTRACT(EPOCH FROM (h.created_at - h.submitted))"
    return f"SELECT h.month AS month, {wait} AS wait FROM ({history_sql}) h WHERE h.decision = 1", params  # noqa: S608


def _response_times_live(filters: InsightFilters) -> dict[str, list[dict[str, Any]]]:
    """``response_times`` from the ideas and their status history (without ``ResponseWait``)."""
    published = (
        _ideas(filters, submitted=False)
        .filter(published_at__gte=filters.start_at, published_at__lt=filters.end_before)
        .annotate(
            month=_month_of("published_at", filters),
            wait=WaitSeconds(F("first_official_response_at"), F("published_at")),
        )
    )
    first_response = _wait_summaries(*_sql(published.values_list("month", "wait")))

    moderation = _wait_summaries(*_moderation_waits(filters))
    return {"first_response": first_response, "moderation": moderation}


def _waits_from_rollup(filters: InsightFilters, kind: str) -> tuple[str, tuple[Any, ...]]:
    """A query of ``month`` and ``wait`` (seconds) for the ``ResponseWait`` rows of ``kind`` in the range (any
    dates, not only whole months: each row has its own time), narrowed through the idea by the other filters."""
    waits = _in_range(ResponseWait.objects.filter(kind=kind), "at", filters)
    waits = _of_ideas(waits, filters, rolled_up=True)
    if filters.tier:
        waits = waits.filter(idea__creator__organisation__tier=filters.tier)
    return _sql(waits.annotate(month=_month_of("at", filters), wait=F("seconds")).values_list("month", "wait"))


def response_times(filters: InsightFilters) -> dict[str, list[dict[str, Any]]]:
    """Per month: hours from publication to the first official response (ideas published that month; the
    ones still waiting are counted apart), and hours an idea spent waiting for each moderation decision
    (decisions taken that month, from the latest submission or resubmission; automatic publication in
    campaigns without moderation is left out). Median and p90 interpolate like ``percentile_cont``. Read from
    ``ResponseWait`` (one narrow row per wait, kept by the scheduled refresh), for every filter."""
    rollups.response_waits_ensure()
    return {
        "first_response": _wait_summaries(*_waits_from_rollup(filters, ResponseWait.Kind.RESPONSE)),
        "moderation": _wait_summaries(*_waits_from_rollup(filters, ResponseWait.Kind.MODERATION)),
    }


# --- Ideas in progress --------------------------------------------------------------------------------------------


def ideas_in_progress(filters: InsightFilters) -> list[dict[str, Any]]:
    """How many ideas were in review, approved and in development at the end of each month of the range,
    replayed from the status history: each change into a status adds one, each change out of it removes one."""
    changes = _of_ideas(StatusChange.objects.order_by(), filters)
    if filters.tier:
        changes = changes.filter(idea__creator__organisation__tier=filters.tier)
    moves: dict[str, Count] = {}
    for status in IN_PROGRESS:
        moves[f"{status}_in"] = Count("pk", filter=Q(to_status=status) & ~Q(from_status=status))
        moves[f"{status}_out"] = Count("pk", filter=Q(from_status=status) & ~Q(to_status=status))
    before = changes.filter(created_at__lt=filters.start_at).aggregate(**moves)
    running = {status: before[f"{status}_in"] - before[f"{status}_out"] for status in IN_PROGRESS}
    deltas = {
        _month_key(row["month"]): row
        for row in _rows(
            changes.filter(created_at__gte=filters.start_at, created_at__lt=filters.end_before)
            .annotate(month=_month_of("created_at", filters))
            .values("month")
            .annotate(**moves)
        )
    }
    if not deltas and not any(running.values()):
        return []
    rows = []
    for month in filters.months():
        delta = deltas.get(month)
        if delta is not None:
            for status in IN_PROGRESS:
                running[status] += delta[f"{status}_in"] - delta[f"{status}_out"]
        rows.append({"month": month, **running, "total": sum(running.values())})
    return rows


# --- Participation ------------------------------------------------------------------------------------------------


def _in_range(queryset: QuerySet[Any], field: str, filters: InsightFilters) -> QuerySet[Any]:
    return queryset.filter(**{f"{field}__gte": filters.start_at, f"{field}__lt": filters.end_before}).order_by()


def _tiered(queryset: QuerySet[Any], user_path: str, filters: InsightFilters) -> QuerySet[Any]:
    tier_field = f"{user_path}__organisation__tier"
    if filters.tier:
        return queryset.filter(**{tier_field: filters.tier})
    return queryset.filter(**{f"{tier_field}__in": TIERS})


def _presences(filters: InsightFilters) -> QuerySet[SessionPresence]:
    """Who joined the live rooms (staff, facilitators included, are not attendees), of the board filtered on."""
    presences = SessionPresence.objects.filter(user__is_staff=False).order_by()
    if filters.board_id:
        presences = presences.filter(session__board_id=filters.board_id)
    return presences


def _activity_live(filters: InsightFilters) -> dict[tuple[str, str], tuple[int, int, int]]:
    """``{(month, tier): (active people, supports, comments)}`` from the source tables."""
    ideas = _tiered(_in_range(Idea.objects.all(), "created_at", filters), "creator", filters)
    supports = _tiered(_in_range(Support.objects.filter(counts=True), "created_at", filters), "user", filters)
    comments = _tiered(
        _in_range(Comment.objects.filter(kind=Comment.Kind.COMMENT), "created_at", filters), "author", filters
    )
    ideas = _of_ideas(ideas, filters, "")
    supports = _of_ideas(supports, filters)
    comments = _of_ideas(comments, filters)
    presences = _tiered(_presences(filters), "user", filters)
    joined = _in_range(presences, "first_joined_at", filters)

    def acts(queryset: QuerySet[Any], user_path: str, source: str, at: str = "created_at") -> QuerySet[Any]:
        return queryset.annotate(
            m=TruncMonth(at),
            t=F(f"{user_path}__organisation__tier"),
            u=F(f"{user_path}_id"),
            s=Value(source),
        ).values("m", "t", "u", "s")

    # One pass over every act (UNION ALL): distinct people, and the supports and comments among the acts.
    union = acts(ideas, "creator", "idea").union(
        acts(supports, "user", "support"),
        acts(comments, "author", "comment"),
        acts(joined, "user", "session", "first_joined_at"),
        all=True,
    )
    inner_sql, params = _sql(union)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT m, t, COUNT(DISTINCT u), SUM(CASE WHEN s = 'support' THEN 1 ELSE 0 END), "  # noqa: S608
            f"SUM(CASE WHEN s = 'comment' THEN 1 ELSE 0 END) FROM ({inner_sql}) acts GROUP BY m, t",
            params,
        )
        return {
            (_month_key(m), t): (people, int(n_supports), int(n_comments))
            for m, t, people, n_supports, n_comments in cursor.fetchall()
        }


def _activity_from_rollup(filters: InsightFilters) -> dict[tuple[str, str], tuple[int, int, int]]:
    """The same from ``ActivityMonth``, or ``BoardActivityMonth`` for a board (whole months only; see
    ``rollups_cover``). Joining a session belongs to no campaign, so it counts whatever the campaign filter, as
    in ``_activity_live``."""
    months = filters.months()
    rollups.activity_months_ensure(months)
    span = {"month__gte": rollups.month_start(months[0]), "month__lte": rollups.month_start(months[-1])}
    rows: QuerySet[Any] = (
        BoardActivityMonth.objects.filter(board_id=filters.board_id, **span)
        if filters.board_id
        else ActivityMonth.objects.filter(**span)
    ).order_by()
    rows = rows.filter(tier=filters.tier) if filters.tier else rows.filter(tier__in=TIERS)
    if filters.campaign_id:
        rows = rows.filter(campaign_id__in=[filters.campaign_id, rollups.NO_CAMPAIGN])
    grouped = rows.values("month", "tier").annotate(
        people=Count("user_id", distinct=True), n_supports=Sum("supports"), n_comments=Sum("comments")
    )
    return {
        (_month_key(row["month"]), row["tier"]): (row["people"], int(row["n_supports"]), int(row["n_comments"]))
        for row in grouped
    }


def rollups_cover(filters: InsightFilters, *, today: datetime.date | None = None) -> bool:
    """Whether the roll-ups answer ``filters``: whole calendar months (or up to today), whatever the other
    filters."""
    today = today or timezone.localdate()
    following = filters.end + datetime.timedelta(days=1)
    return filters.start.day == 1 and (following.day == 1 or filters.end >= today)


def _activity_spans(
    filters: InsightFilters, *, today: datetime.date | None = None
) -> tuple[InsightFilters | None, list[InsightFilters]]:
    """``filters`` split into the whole months the roll-ups answer (see ``rollups_cover``; None if there is
    none) and the part months at either end (at most two), each within one month."""
    today = today or timezone.localdate()
    start, end = filters.start, filters.end
    # The first day of the first whole month, and the last day of the last one.
    first = start if start.day == 1 else (start.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    whole_end = (end + datetime.timedelta(days=1)).day == 1 or end >= today
    last = end if whole_end else end.replace(day=1) - datetime.timedelta(days=1)
    edges = []
    if start < first:
        edges.append(dataclasses.replace(filters, end=min(end, first - datetime.timedelta(days=1))))
    if last < end and end.replace(day=1) >= first:
        edges.append(dataclasses.replace(filters, start=end.replace(day=1)))
    whole = dataclasses.replace(filters, start=first, end=last) if first <= last else None
    return whole, edges


def _activity(filters: InsightFilters) -> dict[tuple[str, str], tuple[int, int, int]]:
    """``{(month, tier): (active people, supports, comments)}``: whole months from the roll-ups and the part
    months at the ends of the range from the source tables, restricted to those days (the date indexes keep
    that to the rows of those days)."""
    whole, edges = _activity_spans(filters)
    counted = _activity_from_rollup(whole) if whole else {}
    for edge in edges:  # each in its own month, so no key is counted twice
        counted.update(_activity_live(edge))
    return counted


def participation(filters: InsightFilters) -> list[dict[str, Any]]:
    """Per month and organisation tier (customers without an organisation are left out): active members
    (distinct people who submitted, supported, commented or joined a live session), supports that count,
    comments, and session attendance (people who joined each session's room, from the presence log, summed over
    the sessions that started that month; staff are not attendees).

    The campaign filter narrows idea activity; the board filter narrows session activity to the board's sessions
    and idea activity to the ideas the board speaks for (``board_ideas``)."""
    counted = _activity(filters)
    attended = _in_range(_tiered(_presences(filters), "user", filters), "session__starts_at", filters)
    active = {key: value[0] for key, value in counted.items()}
    support_counts = {key: value[1] for key, value in counted.items() if value[1]}
    comment_counts = {key: value[2] for key, value in counted.items() if value[2]}
    attendance: dict[tuple[str, str], int] = {}
    for row in (
        attended.annotate(month=TruncMonth("session__starts_at"), tier=F("user__organisation__tier"))
        .values("month", "tier")
        .annotate(n=Count("pk"))
    ):
        key = (_month_key(row["month"]), row["tier"])
        attendance[key] = attendance.get(key, 0) + row["n"]

    keys = set(active) | set(support_counts) | set(comment_counts) | set(attendance)
    if not keys:
        return []
    tiers = [filters.tier] if filters.tier else list(TIERS)
    return [
        {
            "month": month,
            "tier": tier,
            "active_members": active.get((month, tier), 0),
            "supports": support_counts.get((month, tier), 0),
            "comments": comment_counts.get((month, tier), 0),
            "attendance": attendance.get((month, tier), 0),
        }
        for month in filters.months()
        for tier in tiers
    ]


def attendance(filters: InsightFilters) -> list[dict[str, Any]]:
    """Per month of the sessions' start: how many sessions people joined, and how many attendances (a person
    joining a session's room, counted once per session) by the attendee's organisation tier, from the presence
    log. Customers without an organisation count in the total only. Months without attendance are absent."""
    presences = _in_range(_presences(filters), "session__starts_at", filters)
    if filters.tier:
        presences = presences.filter(user__organisation__tier=filters.tier)
    grouped = presences.annotate(month=TruncMonth("session__starts_at"), tier=F("user__organisation__tier"))
    per_month: dict[str, dict[str, Any]] = {}
    for row in grouped.values("month", "tier").annotate(n=Count("pk")):
        month = per_month.setdefault(_month_key(row["month"]), dict.fromkeys(TIERS, 0) | {"total": 0})
        if row["tier"] in TIERS:
            month[row["tier"]] += row["n"]
        month["total"] += row["n"]
    sessions = {
        _month_key(row["month"]): row["n"]
        for row in grouped.values("month").annotate(n=Count("session_id", distinct=True))
    }
    return [{"month": month, "sessions": sessions[month], **per_month[month]} for month in sorted(per_month)]


# --- NPS and CSAT -------------------------------------------------------------------------------------------------

NPS_COUNTS = {
    "responses": Count("pk"),
    "promoters": Count("pk", filter=Q(score__gte=9)),
    "passives": Count("pk", filter=Q(score__gte=7, score__lte=8)),
    "detractors": Count("pk", filter=Q(score__lte=6)),
}


def _nps_row(row: dict[str, Any]) -> dict[str, Any]:
    return {
        **row,
        "nps": nps_score(promoters=row["promoters"], detractors=row["detractors"], responses=row["responses"]),
    }


def _add_counts(into: dict[str, int], row: dict[str, Any]) -> None:
    for key in NPS_COUNTS:
        into[key] = into.get(key, 0) + row[key]


def nps(filters: InsightFilters) -> dict[str, list[dict[str, Any]]]:
    """NPS per month overall, per board and month, and per board over the whole range. Sources: the boards'
    session survey and the quarterly relationship survey, both by the respondent's tier as it was when answering.
    A board filter keeps only that board's sessions."""
    session_answers = _in_range(NpsResponse.objects.all(), "created_at", filters)
    if filters.board_id:
        session_answers = session_answers.filter(session__board_id=filters.board_id)
    if filters.tier:
        session_answers = session_answers.filter(tier=filters.tier)
    relationship = _in_range(SurveyAnswer.objects.filter(kind=Survey.Kind.NPS), "created_at", filters)
    if filters.tier:
        relationship = relationship.filter(tier=filters.tier)

    per_month: dict[str, dict[str, int]] = {}
    month_rows = list(session_answers.annotate(month=TruncMonth("created_at")).values("month").annotate(**NPS_COUNTS))
    if not filters.board_id:
        month_rows += list(relationship.annotate(month=TruncMonth("created_at")).values("month").annotate(**NPS_COUNTS))
    for row in month_rows:
        _add_counts(per_month.setdefault(_month_key(row["month"]), {}), row)
    overall = [_nps_row({"month": month, **per_month[month]}) for month in sorted(per_month)]

    by_board_month = [
        _nps_row(
            {"board": row["session__board__name"], "month": _month_key(row["month"]), **{k: row[k] for k in NPS_COUNTS}}
        )
        for row in session_answers.annotate(month=TruncMonth("created_at"))
        .values("session__board__name", "month")
        .annotate(**NPS_COUNTS)
        .order_by("session__board__name", "month")
    ]
    by_board = [
        _nps_row({"board": row["session__board__name"], **{k: row[k] for k in NPS_COUNTS}})
        for row in session_answers.values("session__board__name")
        .annotate(**NPS_COUNTS)
        .order_by("session__board__name")
    ]
    total_counts: dict[str, int] = {}
    for row in overall:
        _add_counts(total_counts, row)
    total = [_nps_row(total_counts)] if total_counts.get("responses") else []
    return {"overall": overall, "by_board": by_board, "by_board_month": by_board_month, "total": total}


CSAT_COUNTS = {
    "responses": Count("pk"),
    "score_sum": Sum("score"),
    "satisfied": Count("pk", filter=Q(score__gte=4)),
}


def _csat_row(row: dict[str, Any]) -> dict[str, Any]:
    responses = row["responses"]
    average = one_decimal(Decimal(row["score_sum"]) / Decimal(responses)) if responses else None
    return {
        **{k: v for k, v in row.items() if k != "score_sum"},
        "average": average,
        "satisfied_rate": percentage(row["satisfied"], responses),
    }


def csat(filters: InsightFilters) -> dict[str, list[dict[str, Any]]]:
    """Satisfaction (1-5) per month and per tier: responses, average score and the share answering 4 or 5.
    The campaign filter keeps answers about that campaign's ideas, the board filter those about its sessions."""
    answers = _in_range(SurveyAnswer.objects.filter(kind=Survey.Kind.CSAT), "created_at", filters)
    if filters.campaign_id:
        answers = answers.filter(survey__idea__campaign_id=filters.campaign_id)
    if filters.board_id:
        answers = answers.filter(survey__session__board_id=filters.board_id)
    if filters.tier:
        answers = answers.filter(tier=filters.tier)
    by_month = [
        _csat_row({"month": _month_key(row["month"]), **{k: row[k] for k in CSAT_COUNTS}})
        for row in answers.annotate(month=TruncMonth("created_at"))
        .values("month")
        .annotate(**CSAT_COUNTS)
        .order_by("month")
    ]
    by_tier = [
        _csat_row({"tier": row["tier"], **{k: row[k] for k in CSAT_COUNTS}})
        for row in answers.exclude(tier="").values("tier").annotate(**CSAT_COUNTS).order_by("tier")
    ]
    totals = answers.aggregate(**CSAT_COUNTS)
    total = [_csat_row(dict(totals))] if totals["responses"] else []
    return {"by_month": by_month, "by_tier": by_tier, "total": total}


# --- Demand -------------------------------------------------------------------------------------------------------


def _demand_live(filters: InsightFilters) -> list[tuple[Any, ...]]:
    """``(idea, accounts, cents, rank by accounts, rank by revenue)`` for the leading ideas, from the supports."""
    supports = Support.objects.filter(
        counts=True, idea__status__in=ACTIVE_STATUSES, user__organisation__isnull=False
    ).order_by()
    supports = _of_ideas(supports, filters)
    if filters.tier:
        supports = supports.filter(user__organisation__tier=filters.tier)
    pairs_sql, params = _sql(
        supports.annotate(i=F("idea_id"), o=F("user__organisation_id")).values("i", "o").distinct()
    )
    organisation_table = connection.ops.quote_name(Organisation._meta.db_table)
    with connection.cursor() as cursor:
        # One pass over the distinct (idea, organisation) pairs, ranked both ways. Revenue is summed in whole
        # cents, exact on both engines.
        cursor.execute(
            "SELECT i, accounts, cents, by_accounts, by_revenue FROM ("  # noqa: S608
            "SELECT pairs.i AS i, COUNT(*) AS accounts, SUM(ROUND(o.annual_revenue * 100)) AS cents, "
            "ROW_NUMBER() OVER (ORDER BY COUNT(*) DESC, pairs.i) AS by_accounts, "
            "ROW_NUMBER() OVER (ORDER BY SUM(ROUND(o.annual_revenue * 100)) DESC, pairs.i) AS by_revenue "
            f"FROM ({pairs_sql}) pairs JOIN {organisation_table} o ON o.id = pairs.o GROUP BY pairs.i"
            f") ranked WHERE by_accounts <= {DEMAND_LIMIT} OR by_revenue <= {DEMAND_LIMIT}",
            params,
        )
        return [tuple(row) for row in cursor.fetchall()]


def _demand_from_rollup(filters: InsightFilters) -> list[tuple[Any, ...]]:
    """The same from ``IdeaDemand`` (the ideas' current status and campaign are read live), narrowed to the
    board's ideas through ``BoardIdea``: two short ordered reads of one tier's rows (or of the all-tiers rows),
    no grouping."""
    rollups.idea_demand_ensure()
    rows = IdeaDemand.objects.filter(tier=filters.tier or rollups.ALL_TIERS, idea__status__in=ACTIVE_STATUSES)
    if filters.campaign_id:
        rows = rows.filter(idea__campaign_id=filters.campaign_id)
    if filters.board_id:
        rows = rows.filter(idea_id__in=_rolled_up_board_ideas(filters.board_id))
    leaders: dict[int, list[Any]] = {}
    for position, order in ((3, ("-accounts", "idea_id")), (4, ("-revenue_cents", "idea_id"))):
        ranked = rows.order_by(*order).values_list("idea_id", "accounts", "revenue_cents")[:DEMAND_LIMIT]
        for rank, (idea_id, accounts, cents) in enumerate(ranked, start=1):
            leaders.setdefault(idea_id, [idea_id, accounts, cents, None, None])[position] = rank
    # An idea leading one ranking only sorts after the leaders of the other.
    return [tuple(DEMAND_LIMIT + 1 if v is None else v for v in row) for row in leaders.values()]


def demand(filters: InsightFilters) -> dict[str, list[dict[str, Any]]]:
    """The active ideas (gathering support, in review, approved, in development) with the most customer accounts
    behind them, and with the most annual revenue behind them (each organisation counted once per idea). Only
    supports that count; with a tier, only organisations of that tier. This is today's demand: the date range
    does not apply."""
    ranked = _demand_from_rollup(filters)
    by_accounts = [
        {"idea_id": i, "accounts": accounts} for i, accounts, _c, rank, _r in sorted(ranked, key=lambda r: r[3])
    ][:DEMAND_LIMIT]
    by_revenue = [
        {"idea_id": i, "revenue": Decimal(int(cents)) / 100, "accounts": accounts}
        for i, accounts, cents, _a, rank in sorted(ranked, key=lambda r: r[4])
    ][:DEMAND_LIMIT]
    ideas = {
        idea.pk: idea
        for idea in Idea.objects.filter(
            pk__in={row["idea_id"] for row in by_accounts} | {row["idea_id"] for row in by_revenue}
        ).select_related("campaign")
    }

    def described(row: dict[str, Any]) -> dict[str, Any]:
        idea = ideas[row["idea_id"]]
        return {
            "idea_id": idea.pk,
            "title": idea.title,
            "campaign": idea.campaign.title,
            "status": idea.status,
            "supporters": idea.supporters_count,
            **{k: v for k, v in row.items() if k != "idea_id"},
        }

    return {
        "by_accounts": [described(row) for row in by_accounts],
        "by_revenue": [{**described(row), "revenue": f"{row['revenue']:.2f}"} for row in by_revenue],
    }


# --- Everything at once -------------------------------------------------------------------------------------------


def _tuned(metric: Callable[[InsightFilters], Any]) -> Callable[[InsightFilters], Any]:
    @functools.wraps(metric)
    def run(filters: InsightFilters) -> Any:
        with rollups.analytics_transaction():
            return metric(filters)

    return run


# Each figure on its own: cached, refreshed and (if it fails) logged separately from the others.
METRICS: dict[str, Callable[[InsightFilters], Any]] = {
    name: _tuned(metric)
    for name, metric in {
        "funnel": idea_funnel,
        "response_times": response_times,
        "in_progress": ideas_in_progress,
        "participation": participation,
        "attendance": attendance,
        "nps": nps,
        "csat": csat,
        "demand": demand,
    }.items()
}


def insights_compute(filters: InsightFilters) -> dict[str, Any]:
    """Every figure for ``filters``, JSON-ready (what the cache holds and the page renders)."""
    return {**{name: metric(filters) for name, metric in METRICS.items()}, "computed_at": timezone.now().isoformat()}
