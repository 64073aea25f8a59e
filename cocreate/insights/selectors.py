"""The metric queries behind the insights page. Every figure is aggregated in the database; Python only reshapes
the grouped rows (one per month, campaign, board or tier), except for the median and p90, which read the
filtered durations in order (exact on SQLite and PostgreSQL alike).

Every selector takes an ``InsightFilters`` and returns plain, JSON-ready rows (lists of dicts) so that the
figures can be cached, rendered as tables and charts, and exported as CSV from one structure. Months are
``YYYY-MM`` strings in the current time zone. A rate or score that has no data is ``None``, never 0.
"""

from __future__ import annotations

import datetime
import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import connection
from django.db.models import (
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import TruncMonth
from django.utils import timezone

from boards.models import NpsResponse, SessionEvent
from cocreate.models import Organisation, Survey, SurveyAnswer
from ideas.models import Comment, Idea, StatusChange, Support
from ideas.selectors import ACTIVE_STATUSES

TIERS: tuple[str, ...] = tuple(Organisation.Tier.values)
FUNNEL_STAGES: tuple[str, ...] = ("submitted", "published", "milestone", "in_review", "approved", "commercialised")
IN_PROGRESS: tuple[str, ...] = (Idea.Status.IN_REVIEW, Idea.Status.APPROVED, Idea.Status.IN_DEVELOPMENT)
MODERATION_OUTCOMES = (Idea.Status.PUBLISHED, Idea.Status.NEEDS_WORK, Idea.Status.REJECTED)
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


def _rows(queryset: Iterable[Any]) -> list[dict[str, Any]]:
    """Grouped ``values()`` rows as plain dicts (their keys are only known at run time)."""
    return [dict(row) for row in queryset]


def _sql(queryset: QuerySet[Any]) -> tuple[str, tuple[Any, ...]]:
    sql, params = queryset.query.sql_with_params()
    return sql, tuple(params)


# --- The idea funnel ----------------------------------------------------------------------------------------------


def _ideas(filters: InsightFilters, *, submitted: bool = True) -> QuerySet[Idea]:
    """Ideas of the chosen campaign and creator tier; with ``submitted``, only those submitted in the range."""
    ideas = Idea.objects.order_by()
    if submitted:
        ideas = ideas.filter(created_at__gte=filters.start_at, created_at__lt=filters.end_before)
    if filters.campaign_id:
        ideas = ideas.filter(campaign_id=filters.campaign_id)
    if filters.tier:
        ideas = ideas.filter(creator__organisation__tier=filters.tier)
    return ideas


def _reached(status: str) -> Exists:
    return Exists(StatusChange.objects.filter(idea=OuterRef("pk"), to_status=status))


def _stage_counts() -> dict[str, Count]:
    """Each stage counts the ideas that reached it or any later one (history or current status), so the funnel
    never widens: an idea archived while in review still counts as published, past a milestone and in review."""
    commercialised = Q(status=Idea.Status.COMMERCIALISED) | Q(_reached(Idea.Status.COMMERCIALISED))
    approved = (
        commercialised
        | Q(status__in=[Idea.Status.APPROVED, Idea.Status.IN_DEVELOPMENT])
        | Q(_reached(Idea.Status.APPROVED))
    )
    in_review = (
        approved | Q(status__in=[Idea.Status.IN_REVIEW, Idea.Status.NOT_APPROVED]) | Q(_reached(Idea.Status.IN_REVIEW))
    )
    milestone = in_review | Q(milestones_reached__gte=1)
    published = milestone | Q(published_at__isnull=False)
    return {
        "submitted": Count("pk"),
        "published": Count("pk", filter=published),
        "milestone": Count("pk", filter=milestone),
        "in_review": Count("pk", filter=in_review),
        "approved": Count("pk", filter=approved),
        "commercialised": Count("pk", filter=commercialised),
    }


def _with_conversion(row: dict[str, Any]) -> dict[str, Any]:
    """Add ``<stage>_rate`` (% of the previous stage) and ``overall_rate`` (% of submitted reaching the end)."""
    for previous, stage in itertools.pairwise(FUNNEL_STAGES):
        row[f"{stage}_rate"] = percentage(row[stage], row[previous])
    row["overall_rate"] = percentage(row["commercialised"], row["submitted"])
    return row


def idea_funnel(filters: InsightFilters) -> dict[str, list[dict[str, Any]]]:
    """Ideas submitted in the range and how far they got: per campaign, per month of submission, and in total.
    Months without submissions are absent (no zero rows)."""
    ideas = _ideas(filters)
    stages = _stage_counts()
    by_campaign = [
        _with_conversion({"campaign": row["campaign__title"], **{s: row[s] for s in FUNNEL_STAGES}})
        for row in _rows(ideas.values("campaign_id", "campaign__title").annotate(**stages).order_by("campaign__title"))
    ]
    by_month = [
        _with_conversion({"month": _month_key(row["month"]), **{s: row[s] for s in FUNNEL_STAGES}})
        for row in _rows(
            ideas.annotate(month=TruncMonth("created_at")).values("month").annotate(**stages).order_by("month")
        )
    ]
    totals = ideas.aggregate(**stages)
    total = [_with_conversion(dict(totals))] if totals["submitted"] else []
    return {"by_campaign": by_campaign, "by_month": by_month, "total": total}


# --- Response times -----------------------------------------------------------------------------------------------


def _duration_rows(pairs: Iterable[tuple[Any, datetime.timedelta | None]]) -> dict[str, list[float | None]]:
    per_month: dict[str, list[float | None]] = {}
    for month, wait in pairs:
        seconds = None if wait is None else max(wait.total_seconds(), 0.0)
        per_month.setdefault(_month_key(month), []).append(seconds)
    return per_month


def _summary(month: str, values: list[float | None]) -> dict[str, Any]:
    done = sorted(v for v in values if v is not None)
    return {
        "month": month,
        "count": len(done),
        "waiting": len(values) - len(done),
        "median_hours": _hours(percentile(done, 0.5)),
        "p90_hours": _hours(percentile(done, 0.9)),
    }


def response_times(filters: InsightFilters) -> dict[str, list[dict[str, Any]]]:
    """Per month: hours from publication to the first official response (ideas published that month; the
    ones still waiting are counted apart), and hours an idea spent waiting for each moderation decision
    (decisions taken that month, from the latest submission or resubmission; automatic publication in
    campaigns without moderation is left out). Median and p90 interpolate like ``percentile_cont``."""
    published = (
        _ideas(filters, submitted=False)
        .filter(published_at__gte=filters.start_at, published_at__lt=filters.end_before)
        .annotate(
            month=TruncMonth("published_at"),
            wait=ExpressionWrapper(F("first_official_response_at") - F("published_at"), output_field=DurationField()),
        )
        .values_list("month", "wait")
    )
    first_response = _duration_rows(published)

    submitted_at = (
        StatusChange.objects.filter(
            idea=OuterRef("idea"), to_status=Idea.Status.PENDING, created_at__lte=OuterRef("created_at")
        )
        .order_by("-created_at", "-pk")
        .values("created_at")[:1]
    )
    decisions = StatusChange.objects.filter(
        from_status=Idea.Status.PENDING,
        to_status__in=MODERATION_OUTCOMES,
        actor__isnull=False,
        created_at__gte=filters.start_at,
        created_at__lt=filters.end_before,
    ).order_by()
    if filters.campaign_id:
        decisions = decisions.filter(idea__campaign_id=filters.campaign_id)
    if filters.tier:
        decisions = decisions.filter(idea__creator__organisation__tier=filters.tier)
    moderation = _duration_rows(
        decisions.annotate(
            month=TruncMonth("created_at"),
            wait=ExpressionWrapper(F("created_at") - Subquery(submitted_at), output_field=DurationField()),
        ).values_list("month", "wait")
    )
    return {
        "first_response": [_summary(m, first_response[m]) for m in sorted(first_response)],
        "moderation": [_summary(m, moderation[m]) for m in sorted(moderation)],
    }


# --- Ideas in progress --------------------------------------------------------------------------------------------


def ideas_in_progress(filters: InsightFilters) -> list[dict[str, Any]]:
    """How many ideas were in review, approved and in development at the end of each month of the range,
    replayed from the status history: each change into a status adds one, each change out of it removes one."""
    changes = StatusChange.objects.order_by()
    if filters.campaign_id:
        changes = changes.filter(idea__campaign_id=filters.campaign_id)
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
            .annotate(month=TruncMonth("created_at"))
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


def participation(filters: InsightFilters) -> list[dict[str, Any]]:
    """Per month and organisation tier (customers without an organisation are left out): active members
    (distinct people who submitted, supported, commented or took part in a session), supports that count,
    comments, and session attendance (distinct people who acted in each session, summed over the sessions
    that started that month; facilitators and other staff are not attendees).

    The campaign filter narrows idea activity, the board filter session activity."""
    ideas = _tiered(_in_range(Idea.objects.all(), "created_at", filters), "creator", filters)
    supports = _tiered(_in_range(Support.objects.filter(counts=True), "created_at", filters), "user", filters)
    comments = _tiered(
        _in_range(Comment.objects.filter(kind=Comment.Kind.COMMENT), "created_at", filters), "author", filters
    )
    if filters.campaign_id:
        ideas = ideas.filter(campaign_id=filters.campaign_id)
        supports = supports.filter(idea__campaign_id=filters.campaign_id)
        comments = comments.filter(idea__campaign_id=filters.campaign_id)
    events = _tiered(
        _in_range(SessionEvent.objects.filter(author__isnull=False, author__is_staff=False), "created_at", filters),
        "author",
        filters,
    )
    session_events = _tiered(
        _in_range(
            SessionEvent.objects.filter(author__isnull=False, author__is_staff=False), "session__starts_at", filters
        ),
        "author",
        filters,
    )
    if filters.board_id:
        events = events.filter(session__board_id=filters.board_id)
        session_events = session_events.filter(session__board_id=filters.board_id)

    def people(queryset: QuerySet[Any], user_path: str) -> QuerySet[Any]:
        return queryset.annotate(
            m=TruncMonth("created_at"), t=F(f"{user_path}__organisation__tier"), u=F(f"{user_path}_id")
        ).values("m", "t", "u")

    union = people(ideas, "creator").union(
        people(supports, "user"), people(comments, "author"), people(events, "author")
    )
    inner_sql, params = _sql(union)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT m, t, COUNT(*) FROM ({inner_sql}) active GROUP BY m, t", params)  # noqa: S608
        active = {(_month_key(m), t): n for m, t, n in cursor.fetchall()}

    def per_month_tier(queryset: QuerySet[Any], user_path: str) -> dict[tuple[str, str], int]:
        return {
            (_month_key(row["month"]), row["tier"]): row["n"]
            for row in queryset.annotate(month=TruncMonth("created_at"), tier=F(f"{user_path}__organisation__tier"))
            .values("month", "tier")
            .annotate(n=Count("pk"))
        }

    support_counts = per_month_tier(supports, "user")
    comment_counts = per_month_tier(comments, "author")
    attendance: dict[tuple[str, str], int] = {}
    for row in (
        session_events.annotate(month=TruncMonth("session__starts_at"), tier=F("author__organisation__tier"))
        .values("month", "tier", "session_id")
        .annotate(n=Count("author_id", distinct=True))
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
    session survey (tier is the respondent's organisation's tier today; it stores none) and the quarterly
    relationship survey (tier as it was when answering). A board filter keeps only that board's sessions."""
    session_answers = _in_range(NpsResponse.objects.all(), "created_at", filters)
    if filters.board_id:
        session_answers = session_answers.filter(session__board_id=filters.board_id)
    if filters.tier:
        session_answers = session_answers.filter(user__organisation__tier=filters.tier)
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


def demand(filters: InsightFilters) -> dict[str, list[dict[str, Any]]]:
    """The active ideas (gathering support, in review, approved, in development) with the most customer accounts
    behind them, and with the most annual revenue behind them (each organisation counted once per idea). Only
    supports that count; with a tier, only organisations of that tier. This is today's demand: the date range
    does not apply."""
    supports = Support.objects.filter(
        counts=True, idea__status__in=ACTIVE_STATUSES, user__organisation__isnull=False
    ).order_by()
    if filters.campaign_id:
        supports = supports.filter(idea__campaign_id=filters.campaign_id)
    if filters.tier:
        supports = supports.filter(user__organisation__tier=filters.tier)
    by_accounts = _rows(
        supports.values("idea_id")
        .annotate(accounts=Count("user__organisation_id", distinct=True))
        .order_by("-accounts", "idea_id")[:DEMAND_LIMIT]
    )
    pairs_sql, params = _sql(
        supports.annotate(i=F("idea_id"), o=F("user__organisation_id")).values("i", "o").distinct()
    )
    organisation_table = connection.ops.quote_name(Organisation._meta.db_table)
    with connection.cursor() as cursor:
        # Revenue in whole cents, summed over distinct (idea, organisation) pairs: exact on both engines.
        cursor.execute(
            f"SELECT pairs.i, SUM(ROUND(o.annual_revenue * 100)) AS cents, COUNT(*) "  # noqa: S608
            f"FROM ({pairs_sql}) pairs JOIN {organisation_table} o ON o.id = pairs.o "
            f"GROUP BY pairs.i ORDER BY cents DESC, pairs.i LIMIT {DEMAND_LIMIT}",
            params,
        )
        by_revenue = [
            {"idea_id": idea_id, "revenue": Decimal(int(cents)) / 100, "accounts": accounts}
            for idea_id, cents, accounts in cursor.fetchall()
        ]
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


def insights_compute(filters: InsightFilters) -> dict[str, Any]:
    """Every figure for ``filters``, JSON-ready (what the cache holds and the page renders)."""
    return {
        "funnel": idea_funnel(filters),
        "response_times": response_times(filters),
        "in_progress": ideas_in_progress(filters),
        "participation": participation(filters),
        "nps": nps(filters),
        "csat": csat(filters),
        "demand": demand(filters),
        "computed_at": timezone.now().isoformat(),
    }
