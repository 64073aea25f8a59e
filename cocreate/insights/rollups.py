"""The insights roll-ups: derived tables that let the heaviest figures read one row per person and month (or per
idea and tier) instead of every support. The scheduled ``refresh_figures`` task rebuilds them; a figure that
finds a month missing rebuilds that month first, so the numbers never depend on the task having run.

- ``ActivityMonth`` (participation): rebuilt one month at a time. The month in progress and the one before it
  are rebuilt on every run (``RECENT_MAX_AGE``); older months once a day (``SETTLED_MAX_AGE``), which picks up
  withdrawn supports, deleted people and tier changes without recomputing the whole range every 15 minutes.
  ``BoardActivityMonth`` holds the same per board (what the board filter counts) and is rebuilt with it.
- ``BoardIdea`` (the ideas each board speaks for, which the board filter narrows the idea figures to): rebuilt
  whole on every run, before the months and demand; a month's board rows use the board ideas of when the month
  was rebuilt, as its tiers are those of that time.
- ``IdeaDemand`` (demand): today's demand, rebuilt whole on every run; the board filter keeps the board's ideas.
- ``ResponseWait`` (response times): one row per wait, refreshed incrementally: each run rewrites the rows of
  the ideas whose publication, first official response, status history or own row changed since the previous
  run (with ``WAITS_OVERLAP`` to spare for transactions that committed late); once a day it is rebuilt whole,
  which also picks up deleted history.

Each rebuild replaces its rows in one transaction, so readers see the old rows or the new ones, never a mix. Two
rebuilds of the same rows at once (the task and a page) take turns: ``_rebuild_lock`` on PostgreSQL, the database
write lock on SQLite; the later one replaces the earlier one's rows with the same numbers.
"""

from __future__ import annotations

import contextlib
import datetime
from collections.abc import Iterator
from typing import Any

from django.db import connection, transaction
from django.db.models import F, Model, OuterRef, Q, QuerySet, Subquery, Value
from django.utils import timezone

from boards.models import BoardMembership, Session
from cocreate.models import (
    ActivityMonth,
    BoardActivityMonth,
    BoardIdea,
    IdeaDemand,
    Organisation,
    ResponseWait,
    RollupRefresh,
    SessionPresence,
    User,
)
from ideas.models import Comment, Idea, StatusChange, Support
from ideas.selectors import ACTIVE_STATUSES

ACTIVITY = "activity_month"
DEMAND = "idea_demand"
BOARD_IDEAS = "board_idea"
WAITS = "response_wait"  # RollupRefresh.name of the last refresh of any kind
WAITS_WHOLE = "response_wait_whole"  # ... and of the last rebuild from nothing
WAITS_OVERLAP = datetime.timedelta(minutes=10)
WAITS_MAX_CHANGED = 5000  # more changed ideas than this are rewritten faster (and in fewer statements) whole
MODERATION_OUTCOMES = (Idea.Status.PUBLISHED, Idea.Status.NEEDS_WORK, Idea.Status.REJECTED)
ALL_TIERS = "all"  # IdeaDemand.tier of the row that counts every tier
NO_CAMPAIGN = 0  # ActivityMonth.campaign_id of joining a live session
RECENT_MAX_AGE = datetime.timedelta(minutes=14)
SETTLED_MAX_AGE = datetime.timedelta(hours=24)


def _rebuild_lock(name: str) -> None:
    """Serialise rebuilds of one roll-up until the transaction ends (PostgreSQL; SQLite has one writer)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"insights-rollup-{name}"])


@contextlib.contextmanager
def analytics_transaction() -> Iterator[None]:
    """A transaction for figure queries. On PostgreSQL it switches off JIT compilation, which the planner
    chooses for these one-off aggregates over large tables and which costs seconds more than it saves (measured:
    6.5 s of compilation for a 0.5 s funnel at 100,000 ideas)."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL jit = off")
                # Room to group a million supports in memory rather than in temporary files.
                cursor.execute("SET LOCAL work_mem = '64MB'")
        yield


def month_start(month: str) -> datetime.date:
    """``YYYY-MM`` to the month's first day."""
    return datetime.date(int(month[:4]), int(month[5:7]), 1)


def _month_bounds(first: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    following = datetime.date(first.year + first.month // 12, first.month % 12 + 1, 1)
    start = timezone.make_aware(datetime.datetime.combine(first, datetime.time.min))
    end = timezone.make_aware(datetime.datetime.combine(following, datetime.time.min))
    return start, end


def _max_age(first: datetime.date, *, today: datetime.date) -> datetime.timedelta:
    previous = today.replace(day=1) - datetime.timedelta(days=1)
    return RECENT_MAX_AGE if first >= previous.replace(day=1) else SETTLED_MAX_AGE


def _table(model: type[Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _activity_sql(*, board: bool) -> str:
    """The INSERT ... SELECT of one month's ``ActivityMonth`` rows, or with ``board`` of its
    ``BoardActivityMonth`` rows: each source grouped per person and campaign (and board: the idea acts through
    ``BoardIdea``, joining a session through the session's board), then merged. Parameters: the month's first
    day, then per source its filters and the month's start and end (see ``activity_month_rebuild``)."""
    ideas, supports, comments = _table(Idea), _table(Support), _table(Comment)
    users, organisations = _table(User), _table(Organisation)
    if board:
        target, columns, b, g = _table(BoardActivityMonth), "board_id, ", "bi.board_id AS b, ", "bi.board_id, "
        of_idea = f"JOIN {_table(BoardIdea)} bi ON bi.idea_id = i.id "
        of_session = f"JOIN {_table(Session)} bi ON bi.id = x.session_id "
    else:
        target, columns, b, g, of_idea, of_session = _table(ActivityMonth), "", "", "", "", ""
    merged = "acts.b, " if board else ""
    return (
        f"INSERT INTO {target} "  # noqa: S608
        f"(month, {columns}user_id, tier, campaign_id, ideas, supports, comments, sessions) "
        f"SELECT %s, {merged}acts.u, COALESCE(o.tier, ''), acts.c, SUM(acts.n_i), SUM(acts.n_s), SUM(acts.n_cm), "
        "SUM(acts.n_se) FROM ("
        f"SELECT {b}i.creator_id AS u, i.campaign_id AS c, COUNT(*) AS n_i, 0 AS n_s, 0 AS n_cm, 0 AS n_se "
        f"FROM {ideas} i {of_idea}"
        f"WHERE i.created_at >= %s AND i.created_at < %s GROUP BY {g}i.creator_id, i.campaign_id "
        f"UNION ALL SELECT {b}x.user_id, i.campaign_id, 0, COUNT(*), 0, 0 FROM {supports} x "
        f"JOIN {ideas} i ON i.id = x.idea_id {of_idea}"
        "WHERE x.counts = %s AND x.created_at >= %s AND x.created_at < %s "
        f"GROUP BY {g}x.user_id, i.campaign_id "
        f"UNION ALL SELECT {b}x.author_id, i.campaign_id, 0, 0, COUNT(*), 0 FROM {comments} x "
        f"JOIN {ideas} i ON i.id = x.idea_id {of_idea}"
        "WHERE x.kind = %s AND x.created_at >= %s AND x.created_at < %s "
        f"GROUP BY {g}x.author_id, i.campaign_id "
        f"UNION ALL SELECT {b}x.user_id, {NO_CAMPAIGN}, 0, 0, 0, COUNT(*) FROM {_table(SessionPresence)} x "
        f"{of_session}JOIN {users} p ON p.id = x.user_id WHERE p.is_staff = %s AND x.first_joined_at >= %s "
        f"AND x.first_joined_at < %s GROUP BY {g}x.user_id"
        f") acts JOIN {users} u ON u.id = acts.u LEFT JOIN {organisations} o ON o.id = u.organisation_id "
        f"GROUP BY {merged}acts.u, acts.c, o.tier"
    )


def activity_month_rebuild(*, first: datetime.date, now: datetime.datetime | None = None) -> int:
    """Recompute the month starting on ``first`` from ideas, supports that count, comments and the rooms'
    presence log: its ``ActivityMonth`` rows, and its ``BoardActivityMonth`` rows from the ideas each board
    speaks for as ``BoardIdea`` holds them (built first if it never was). Two INSERT ... SELECTs in one
    transaction: nothing passes through Python. Returns the rows written."""
    now = now or timezone.now()
    board_ideas_ensure(now=now)
    start, end = _month_bounds(first)
    ops = connection.ops
    start_at, end_at = ops.adapt_datetimefield_value(start), ops.adapt_datetimefield_value(end)
    params = [ops.adapt_datefield_value(first), start_at, end_at, True, start_at, end_at, Comment.Kind.COMMENT]
    params += [start_at, end_at, False, start_at, end_at]
    written = 0
    with analytics_transaction():
        _rebuild_lock(f"{ACTIVITY}-{first}")
        ActivityMonth.objects.filter(month=first).delete()
        BoardActivityMonth.objects.filter(month=first).delete()
        with connection.cursor() as cursor:
            for board in (False, True):
                cursor.execute(_activity_sql(board=board), params)
                written += cursor.rowcount
        RollupRefresh.objects.filter(name=ACTIVITY, month=first).delete()
        RollupRefresh.objects.create(name=ACTIVITY, month=first, refreshed_at=now)
    return written


def activity_months_ensure(
    months: list[str], *, now: datetime.datetime | None = None, max_age: datetime.timedelta | None = None
) -> int:
    """Rebuild the months of ``months`` (``YYYY-MM``) that were never built, or (with ``max_age``, or by default
    in the scheduled refresh) whose last build is older than that. Returns how many months were rebuilt."""
    now = now or timezone.now()
    firsts = [month_start(month) for month in months]
    built = dict(RollupRefresh.objects.filter(name=ACTIVITY, month__in=firsts).values_list("month", "refreshed_at"))
    rebuilt = 0
    for first in firsts:
        last = built.get(first)
        if last is None or (max_age is not None and now - last > max_age):
            activity_month_rebuild(first=first, now=now)
            rebuilt += 1
    return rebuilt


def idea_demand_rebuild(*, now: datetime.datetime | None = None) -> int:
    """Recompute today's demand per active idea, for each tier and for all tiers together (``ALL_TIERS``):
    distinct supporting organisations and the sum of their annual revenue in whole cents (exact on both
    engines), with INSERT ... SELECT over the distinct (idea, organisation) pairs. Returns the rows written."""
    now = now or timezone.now()
    pairs = (
        Support.objects.filter(counts=True, idea__status__in=ACTIVE_STATUSES, user__organisation__isnull=False)
        .order_by()
        .annotate(i=F("idea_id"), o=F("user__organisation_id"))
        .values("i", "o")
        .distinct()
    )
    pairs_sql, params = pairs.query.sql_with_params()
    written = 0
    with analytics_transaction():
        _rebuild_lock(DEMAND)
        IdeaDemand.objects.all().delete()
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {_table(IdeaDemand)} (idea_id, tier, accounts, revenue_cents) "  # noqa: S608
                "SELECT pairs.i, o.tier, COUNT(*), SUM(ROUND(o.annual_revenue * 100)) "
                f"FROM ({pairs_sql}) pairs JOIN {_table(Organisation)} o ON o.id = pairs.o GROUP BY pairs.i, o.tier",
                params,
            )
            written += cursor.rowcount
            # All tiers together, from the rows just written (an organisation has one tier).
            cursor.execute(
                f"INSERT INTO {_table(IdeaDemand)} (idea_id, tier, accounts, revenue_cents) "  # noqa: S608
                f"SELECT idea_id, %s, SUM(accounts), SUM(revenue_cents) FROM {_table(IdeaDemand)} GROUP BY idea_id",
                [ALL_TIERS],
            )
            written += cursor.rowcount
        RollupRefresh.objects.filter(name=DEMAND).delete()
        RollupRefresh.objects.create(name=DEMAND, month=None, refreshed_at=now)
    return written


def idea_demand_ensure(*, now: datetime.datetime | None = None, max_age: datetime.timedelta | None = None) -> bool:
    """Rebuild the demand roll-up if it was never built or (with ``max_age``) is older than that."""
    now = now or timezone.now()
    last = RollupRefresh.objects.filter(name=DEMAND).values_list("refreshed_at", flat=True).first()
    if last is None or (max_age is not None and now - last > max_age):
        idea_demand_rebuild(now=now)
        return True
    return False


def board_ideas_rebuild(*, now: datetime.datetime | None = None) -> int:
    """Recompute ``BoardIdea``: for each board, the ideas created or supported (any support) by people of the
    organisations that have a member on the board, as ``selectors.board_ideas`` reads them from the source
    tables. One INSERT ... SELECT of the distinct (board, idea) pairs. Returns the rows written."""
    now = now or timezone.now()
    users = _table(User)
    # The (board, organisation) pairs: boards have few members, so this is small.
    organisations = (
        f"SELECT DISTINCT m.board_id AS b, mu.organisation_id AS o FROM {_table(BoardMembership)} m "  # noqa: S608
        f"JOIN {users} mu ON mu.id = m.user_id WHERE mu.organisation_id IS NOT NULL"
    )
    sql = (
        f"INSERT INTO {_table(BoardIdea)} (board_id, idea_id) "  # noqa: S608
        f"SELECT bo.b, x.id FROM {_table(Idea)} x JOIN {users} u ON u.id = x.creator_id "
        f"JOIN ({organisations}) bo ON bo.o = u.organisation_id "
        f"UNION SELECT bo.b, x.idea_id FROM {_table(Support)} x JOIN {users} u ON u.id = x.user_id "
        f"JOIN ({organisations}) bo ON bo.o = u.organisation_id"
    )
    with analytics_transaction():
        _rebuild_lock(BOARD_IDEAS)
        BoardIdea.objects.all().delete()
        with connection.cursor() as cursor:
            cursor.execute(sql)
            written = cursor.rowcount
        RollupRefresh.objects.filter(name=BOARD_IDEAS).delete()
        RollupRefresh.objects.create(name=BOARD_IDEAS, month=None, refreshed_at=now)
    return written


def board_ideas_ensure(*, now: datetime.datetime | None = None, max_age: datetime.timedelta | None = None) -> bool:
    """Rebuild ``BoardIdea`` if it was never built or (with ``max_age``) is older than that."""
    now = now or timezone.now()
    last = RollupRefresh.objects.filter(name=BOARD_IDEAS).values_list("refreshed_at", flat=True).first()
    if last is None or (max_age is not None and now - last > max_age):
        board_ideas_rebuild(now=now)
        return True
    return False


def _wait_rows(ideas: list[int] | None) -> list[tuple[str, tuple[Any, ...]]]:
    """SELECTs of ``ResponseWait`` rows (kind, idea, ref, at, seconds) for the ideas with the ids ``ideas`` (every
    idea when None): first official responses of published ideas, and moderation decisions taken by a person
    (automatic publication in campaigns without moderation is left out) with the seconds since the latest
    submission or resubmission at or before the decision (found through the ``status_change_idea_to`` index)."""
    from cocreate.insights.selectors import WaitSeconds  # the selectors read this module's tables

    published = Idea.objects.filter(published_at__isnull=False).order_by()
    decisions = StatusChange.objects.filter(
        from_status=Idea.Status.PENDING, to_status__in=MODERATION_OUTCOMES, actor__isnull=False
    ).order_by()
    if ideas is not None:
        published = published.filter(pk__in=ideas)
        decisions = decisions.filter(idea_id__in=ideas)
    submitted_at = (
        StatusChange.objects.filter(
            idea=OuterRef("idea"), to_status=Idea.Status.PENDING, created_at__lte=OuterRef("created_at")
        )
        .order_by("-created_at", "-pk")
        .values("created_at")[:1]
    )
    # Every column an annotation, in the INSERT's order (``values_list`` puts model fields before annotations).
    queries = [
        published.annotate(
            k=Value(ResponseWait.Kind.RESPONSE.value),
            i=F("pk"),
            r=F("pk"),
            t=F("published_at"),
            wait=WaitSeconds(F("first_official_response_at"), F("published_at")),
        ).values_list("k", "i", "r", "t", "wait"),
        decisions.annotate(
            k=Value(ResponseWait.Kind.MODERATION.value),
            i=F("idea_id"),
            r=F("pk"),
            t=F("created_at"),
            wait=WaitSeconds(F("created_at"), Subquery(submitted_at)),
        ).values_list("k", "i", "r", "t", "wait"),
    ]
    return [query.query.sql_with_params() for query in queries]


def _changed_ideas(since: datetime.datetime) -> QuerySet[Idea, Any]:
    """Ideas whose waits may have changed since ``since``: published, answered, moved through moderation or
    otherwise saved since then (as a subquery of ids)."""
    moved = StatusChange.objects.filter(created_at__gte=since).values("idea_id")
    return (
        Idea.objects.filter(
            Q(published_at__gte=since)
            | Q(first_official_response_at__gte=since)
            | Q(updated_at__gte=since)
            | Q(pk__in=moved)
        )
        .order_by()
        .values("pk")
    )


def response_waits_refresh(*, now: datetime.datetime | None = None, whole: bool = False) -> dict[str, Any]:
    """Bring ``ResponseWait`` up to date: rebuilt from nothing when it never was, when ``whole`` is asked or
    when the last rebuild from nothing is older than ``SETTLED_MAX_AGE``; otherwise only the rows of the ideas
    changed since the previous refresh (less ``WAITS_OVERLAP``) are rewritten. Idempotent. Concurrent refreshes
    take turns (``_rebuild_lock``; the database write lock on SQLite) and the later one reads the earlier one's
    watermark, so it rewrites only what changed in between. More than ``WAITS_MAX_CHANGED`` changed ideas are
    rebuilt whole. Returns ``{"whole": bool, "ideas": n, "rows": n}``
    (``ideas`` is the number of ideas rewritten on an incremental run)."""
    now = now or timezone.now()
    with analytics_transaction():
        _rebuild_lock(WAITS)
        marks = dict(RollupRefresh.objects.filter(name__in=[WAITS, WAITS_WHOLE]).values_list("name", "refreshed_at"))
        whole = whole or WAITS_WHOLE not in marks or now - marks[WAITS_WHOLE] > SETTLED_MAX_AGE
        # The changed ids themselves, not a subquery: the delete and the inserts rewrite the same ideas, and the
        # history is reached through its idea index whatever the planner's estimates.
        changed: list[int] | None = None
        touched = 0
        if not whole:
            ids = list(_changed_ideas(marks.get(WAITS, now) - WAITS_OVERLAP).values_list("pk", flat=True))
            whole = len(ids) > WAITS_MAX_CHANGED
            if not whole:
                touched = len(ids)
                changed = ids
                ResponseWait.objects.filter(idea_id__in=ids).delete()
        if whole:
            ResponseWait.objects.all().delete()
        written = 0
        with connection.cursor() as cursor:
            for select_sql, params in _wait_rows(changed):
                cursor.execute(
                    f"INSERT INTO {_table(ResponseWait)} (kind, idea_id, ref, at, seconds) {select_sql}",
                    params,
                )
                written += cursor.rowcount
        names = [WAITS, WAITS_WHOLE] if whole else [WAITS]
        RollupRefresh.objects.filter(name__in=names).delete()
        RollupRefresh.objects.bulk_create([RollupRefresh(name=name, month=None, refreshed_at=now) for name in names])
    return {"whole": whole, "ideas": touched, "rows": written}


def response_waits_ensure() -> None:
    """Build ``ResponseWait`` if it never was (the figures then never depend on the task having run)."""
    if not RollupRefresh.objects.filter(name=WAITS_WHOLE).exists():
        response_waits_refresh(whole=True)


def rollups_refresh(months: list[str], *, now: datetime.datetime | None = None) -> dict[str, Any]:
    """The scheduled part: the boards' ideas, recent months, demand and the response waits that changed on every
    run, settled months (and every response wait) once a day."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    stale = [
        month
        for month in months
        if _stale(month_start(month), now=now, max_age=_max_age(month_start(month), today=today))
    ]
    return {
        # First: the month rows and the demand read the board's ideas from it.
        "board_ideas": board_ideas_ensure(now=now, max_age=RECENT_MAX_AGE),
        "activity_months": activity_months_ensure(stale, now=now, max_age=datetime.timedelta(0)),
        "demand": idea_demand_ensure(now=now, max_age=RECENT_MAX_AGE),
        "response_waits": response_waits_refresh(now=now),
    }


def _stale(first: datetime.date, *, now: datetime.datetime, max_age: datetime.timedelta) -> bool:
    last = RollupRefresh.objects.filter(name=ACTIVITY, month=first).values_list("refreshed_at", flat=True).first()
    return last is None or now - last > max_age
