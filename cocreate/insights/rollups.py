"""The insights roll-ups: derived tables that let the heaviest figures read one row per person and month (or per
idea and tier) instead of every support. The scheduled ``refresh_figures`` task rebuilds them; a figure that
finds a month missing rebuilds that month first, so the numbers never depend on the task having run.

- ``ActivityMonth`` (participation): rebuilt one month at a time. The month in progress and the one before it
  are rebuilt on every run (``RECENT_MAX_AGE``); older months once a day (``SETTLED_MAX_AGE``), which picks up
  withdrawn supports, deleted people and tier changes without recomputing the whole range every 15 minutes.
- ``IdeaDemand`` (demand): today's demand, rebuilt whole on every run.

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
from django.db.models import F, Model
from django.utils import timezone

from cocreate.models import ActivityMonth, IdeaDemand, Organisation, RollupRefresh, SessionPresence, User
from ideas.models import Comment, Idea, Support
from ideas.selectors import ACTIVE_STATUSES

ACTIVITY = "activity_month"
DEMAND = "idea_demand"
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


def activity_month_rebuild(*, first: datetime.date, now: datetime.datetime | None = None) -> int:
    """Recompute the month starting on ``first`` from ideas, supports that count, comments and the rooms'
    presence log, in one INSERT ... SELECT (each source grouped per person and campaign, then merged): nothing
    passes through Python. Returns the rows written."""
    now = now or timezone.now()
    start, end = _month_bounds(first)
    ideas, supports, comments = _table(Idea), _table(Support), _table(Comment)
    users, organisations = _table(User), _table(Organisation)
    sql = (
        f"INSERT INTO {_table(ActivityMonth)} "  # noqa: S608
        "(month, user_id, tier, campaign_id, ideas, supports, comments, sessions) "
        "SELECT %s, acts.u, COALESCE(o.tier, ''), acts.c, SUM(acts.i), SUM(acts.s), SUM(acts.cm), SUM(acts.se) "
        "FROM ("
        f"SELECT creator_id AS u, campaign_id AS c, COUNT(*) AS i, 0 AS s, 0 AS cm, 0 AS se FROM {ideas} "
        "WHERE created_at >= %s AND created_at < %s GROUP BY creator_id, campaign_id "
        f"UNION ALL SELECT x.user_id, i.campaign_id, 0, COUNT(*), 0, 0 FROM {supports} x "
        f"JOIN {ideas} i ON i.id = x.idea_id WHERE x.counts = %s AND x.created_at >= %s AND x.created_at < %s "
        "GROUP BY x.user_id, i.campaign_id "
        f"UNION ALL SELECT x.author_id, i.campaign_id, 0, 0, COUNT(*), 0 FROM {comments} x "
        f"JOIN {ideas} i ON i.id = x.idea_id WHERE x.kind = %s AND x.created_at >= %s AND x.created_at < %s "
        "GROUP BY x.author_id, i.campaign_id "
        f"UNION ALL SELECT x.user_id, {NO_CAMPAIGN}, 0, 0, 0, COUNT(*) FROM {_table(SessionPresence)} x "
        f"JOIN {users} p ON p.id = x.user_id WHERE p.is_staff = %s AND x.first_joined_at >= %s "
        "AND x.first_joined_at < %s GROUP BY x.user_id"
        f") acts JOIN {users} u ON u.id = acts.u LEFT JOIN {organisations} o ON o.id = u.organisation_id "
        "GROUP BY acts.u, acts.c, o.tier"
    )
    ops = connection.ops
    start_at, end_at = ops.adapt_datetimefield_value(start), ops.adapt_datetimefield_value(end)
    params = [ops.adapt_datefield_value(first), start_at, end_at, True, start_at, end_at, Comment.Kind.COMMENT]
    params += [start_at, end_at, False, start_at, end_at]
    with analytics_transaction():
        _rebuild_lock(f"{ACTIVITY}-{first}")
        ActivityMonth.objects.filter(month=first).delete()
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            written = cursor.rowcount
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


def rollups_refresh(months: list[str], *, now: datetime.datetime | None = None) -> dict[str, Any]:
    """The scheduled part: recent months and demand on every run, settled months once a day."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    stale = [
        month
        for month in months
        if _stale(month_start(month), now=now, max_age=_max_age(month_start(month), today=today))
    ]
    return {
        "activity_months": activity_months_ensure(stale, now=now, max_age=datetime.timedelta(0)),
        "demand": idea_demand_ensure(now=now, max_age=RECENT_MAX_AGE),
    }


def _stale(first: datetime.date, *, now: datetime.datetime, max_age: datetime.timedelta) -> bool:
    last = RollupRefresh.objects.filter(name=ACTIVITY, month=first).values_list("refreshed_at", flat=True).first()
    return last is None or now - last > max_age
