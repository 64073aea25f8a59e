"""The insights roll-ups: derived tables that let the heaviest figures read one row per person and month (or per
idea and tier) instead of every support. The scheduled ``refresh_figures`` task keeps them current; a figure that
finds a month missing rebuilds that month first, so the numbers never depend on the task having run.

The scheduled refresh is incremental: it rewrites only what changed since its previous run, found by digests
(counts and sums of ids, which never repeat, so a row added, withdrawn or no longer counted changes them) of
what each part read when it was last written:

- ``BoardIdea`` (the ideas each board speaks for, which the board filter narrows the idea figures to) and
  ``IdeaDemand`` (today's demand per idea and tier): rewritten for the ideas whose ``IdeaDigest`` (status,
  supports) differs from the live one, including new and deleted ideas; rebuilt whole when what every row reads
  beside the idea's own supports changed (people's organisation, organisations' tier and revenue, board
  memberships) or more than ``IDEAS_MAX_CHANGED`` ideas changed.
- ``ActivityMonth`` (participation) and ``BoardActivityMonth`` (the same per board), a month at a time: the
  month in progress and the one before are checked on every run, older months once a day
  (``SETTLED_MAX_AGE``); a month checked is rebuilt only if its own source rows (ideas, supports, comments,
  presence) or what its rows read beside them (tiers, staff, ideas' campaigns, sessions' boards, ``BoardIdea``,
  which supports count) changed since it was built. An older month thus keeps a withdrawn support, or the tiers of when it was built,
  for up to a day.
- ``ResponseWait`` (response times): one row per wait, refreshed incrementally: each run rewrites the rows of
  the ideas whose publication, first official response, status history or own row changed since the previous
  run (with ``WAITS_OVERLAP`` to spare for transactions that committed late); once a day it is rebuilt whole,
  which also picks up deleted history.

Digests are read before the rows they describe are written: a row committed in between makes the next run
rewrite that part again, never miss it. Each rebuild replaces its rows in one transaction, so readers see the
old rows or the new ones, never a mix. Two rebuilds of the same rows at once (the task and a page) take turns:
``_rebuild_lock`` on PostgreSQL, the database write lock on SQLite; the later one replaces the earlier one's
rows with the same numbers. A table rebuilt whole is analysed at once on PostgreSQL, so the figures that join it
are planned on its new statistics rather than on none.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
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
    IdeaDigest,
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
IDEAS = "idea_digest"  # RollupRefresh.name of the last refresh of BoardIdea and IdeaDemand by idea
IDEAS_MAX_CHANGED = 5000  # as WAITS_MAX_CHANGED, for BoardIdea and IdeaDemand
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


def _analyze(*models: type[Model]) -> None:
    """Refresh the planner's statistics of tables just rewritten whole (PostgreSQL; SQLite plans without)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {', '.join(_table(model) for model in models)}")


# A prime below 2**31: each term of a mixed sum stays below 2**62, and the sums of a few million terms stay exact
# on both engines (bigint on PostgreSQL, 64-bit integers on SQLite).
_PRIME = 2147483629


def _mixed(key: str, value: str) -> str:
    """The SQL of a sum over rows that changes when ``value`` changes for any ``key`` (both integers), even when
    two rows swap their values (barring a coincidence of the modular sums): each row adds ``key * (value + 1)``,
    both modulo ``_PRIME``. For a query run with parameters (``%%`` is ``%`` there on both engines)."""
    return f"SUM((({key}) %% {_PRIME}) * ((({value}) %% {_PRIME}) + 1) %% {_PRIME})"


def _digest(sql: str, params: list[Any] | None = None) -> str:
    """The one row of a digest query as a string."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])  # always with parameters: ``_mixed`` writes ``%%``
        row = cursor.fetchone()
    return ":".join("" if value is None else str(int(value)) for value in row)


def _tier_code(column: str) -> str:
    """A tier as a small integer (0 for none), for ``_mixed``."""
    whens = " ".join(f"WHEN '{tier}' THEN {code}" for code, tier in enumerate(Organisation.Tier.values, start=1))
    return f"CASE {column} {whens} ELSE 0 END"


def _people_digest() -> str:
    """People's organisation and staff flag, and organisations' tier and revenue: what every roll-up row reads
    about the person or organisation behind it."""
    users, organisations = _table(User), _table(Organisation)
    return _digest(
        f"SELECT (SELECT COUNT(*) FROM {users}), "  # noqa: S608
        f"(SELECT {_mixed('id', 'COALESCE(organisation_id, 0)')} FROM {users}), "
        f"(SELECT {_mixed('id', 'CASE WHEN is_staff THEN 1 ELSE 0 END')} FROM {users}), "
        f"(SELECT COUNT(*) FROM {organisations}), "
        f"(SELECT {_mixed('id', _tier_code('tier'))} FROM {organisations}), "
        f"(SELECT {_mixed('id', 'CAST(ROUND(annual_revenue * 100) AS BIGINT)')} FROM {organisations})"
    )


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


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _month_digests(firsts: list[datetime.date]) -> dict[datetime.date, str]:
    """For each month starting on a day of ``firsts``, a digest of its own source rows: the ideas submitted, the
    supports (whether they count is in ``_month_context_digest``: read from the date index alone, this is 20
    times faster on SQLite), the comments and the joins of a live room in that month (their number and the sum
    of their ids). One query per source and month, each a range of the source's date index."""
    adapt = connection.ops.adapt_datetimefield_value
    sources: list[tuple[type[Model], str, str, list[Any]]] = [
        (Idea, "created_at", "", []),
        (Support, "created_at", "", []),
        (Comment, "created_at", " AND kind = %s", [Comment.Kind.COMMENT]),
        (SessionPresence, "first_joined_at", "", []),
    ]
    digests = {}
    with connection.cursor() as cursor:
        for first in firsts:
            start, end = _month_bounds(first)
            parts = []
            for model, at, condition, condition_params in sources:
                cursor.execute(
                    f"SELECT COUNT(*), SUM(id) FROM {_table(model)} WHERE {at} >= %s AND {at} < %s{condition}",  # noqa: S608
                    [adapt(start), adapt(end), *condition_params],
                )
                count, total = cursor.fetchone()
                parts.append(f"{count}:{total or 0}")
            digests[first] = _hash("/".join(parts))
    return digests


def _month_context_digest() -> str:
    """What a month's rows read beside its own source rows: people and organisations, the ideas' campaigns, the
    sessions' boards, the boards' ideas (``BoardIdea``) and which supports do not count (few)."""
    ideas, sessions, board_ideas, supports = _table(Idea), _table(Session), _table(BoardIdea), _table(Support)
    sql = (
        f"SELECT (SELECT COUNT(*) FROM {ideas}), (SELECT {_mixed('id', 'campaign_id')} FROM {ideas}), "  # noqa: S608
        f"(SELECT COUNT(*) FROM {sessions}), (SELECT {_mixed('id', 'board_id')} FROM {sessions}), "
        f"(SELECT COUNT(*) FROM {board_ideas}), (SELECT {_mixed('idea_id', 'board_id')} FROM {board_ideas}), "
        f"(SELECT COUNT(*) FROM {supports} WHERE counts = %s), (SELECT SUM(id) FROM {supports} WHERE counts = %s)"
    )
    return _hash(f"{_people_digest()}/{_digest(sql, [False, False])}")


def activity_month_rebuild(
    *, first: datetime.date, now: datetime.datetime | None = None, digest: str | None = None
) -> int:
    """Recompute the month starting on ``first`` from ideas, supports that count, comments and the rooms'
    presence log: its ``ActivityMonth`` rows, and its ``BoardActivityMonth`` rows from the ideas each board
    speaks for as ``BoardIdea`` holds them (built first if it never was). Two INSERT ... SELECTs in one
    transaction: nothing passes through Python. ``digest`` is what the month's sources were when the caller
    decided to rebuild it (read here, before the rows, when not given). Returns the rows written."""
    now = now or timezone.now()
    board_ideas_ensure(now=now)
    if digest is None:
        digest = f"{_month_digests([first])[first]} {_month_context_digest()}"
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
        RollupRefresh.objects.create(name=ACTIVITY, month=first, refreshed_at=now, digest=digest)
    return written


def activity_months_ensure(
    months: list[str], *, now: datetime.datetime | None = None, max_age: datetime.timedelta | None = None
) -> int:
    """Rebuild the months of ``months`` (``YYYY-MM``) that were never built, or (with ``max_age``) whose last
    build is older than that. Returns how many months were rebuilt (the tables are analysed afterwards)."""
    now = now or timezone.now()
    firsts = [month_start(month) for month in months]
    built = dict(RollupRefresh.objects.filter(name=ACTIVITY, month__in=firsts).values_list("month", "refreshed_at"))
    rebuilt = 0
    for first in firsts:
        last = built.get(first)
        if last is None or (max_age is not None and now - last > max_age):
            activity_month_rebuild(first=first, now=now)
            rebuilt += 1
    if rebuilt:
        _analyze(ActivityMonth, BoardActivityMonth)
    return rebuilt


def activity_months_refresh(months: list[str], *, now: datetime.datetime | None = None) -> list[str]:
    """The scheduled part for the months of ``months``. The month in progress and the one before are checked on
    every run, older months once their last check is older than ``SETTLED_MAX_AGE``: a month checked is rebuilt
    when its own source rows or what its rows read beside them (``_month_context_digest``) changed since it was
    built, and otherwise marked current as of ``now``. Months never built are built. Returns the months rebuilt
    (``YYYY-MM``); the tables are analysed afterwards."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    built = {
        month: (refreshed_at, digest)
        for month, refreshed_at, digest in RollupRefresh.objects.filter(
            name=ACTIVITY, month__in=[month_start(month) for month in months]
        ).values_list("month", "refreshed_at", "digest")
    }
    due = {
        month: first
        for month, first in ((month, month_start(month)) for month in months)
        if first not in built
        or _max_age(first, today=today) == RECENT_MAX_AGE
        or now - built[first][0] > SETTLED_MAX_AGE
    }
    if not due:
        return []
    own = _month_digests(list(due.values()))
    context = _month_context_digest()
    rebuilt, current = [], []
    for month, first in due.items():
        digest = f"{own[first]} {context}"
        if first in built and built[first][1] == digest:
            current.append(first)
            continue
        activity_month_rebuild(first=first, now=now, digest=digest)
        rebuilt.append(month)
    RollupRefresh.objects.filter(name=ACTIVITY, month__in=current).update(refreshed_at=now)
    if rebuilt:
        _analyze(ActivityMonth, BoardActivityMonth)
    return rebuilt


def _in_ids(column: str, ideas: list[int] | None) -> tuple[str, list[int]]:
    """`` AND column IN (...)`` for the ideas of ``ideas`` (nothing for None: every idea)."""
    if ideas is None:
        return "", []
    return f" AND {column} IN ({', '.join(['%s'] * len(ideas))})", list(ideas)


def _demand_write(cursor: Any, ideas: list[int] | None) -> int:
    """Insert the ``IdeaDemand`` rows of the ideas of ``ideas`` (every idea when None), none of which has rows."""
    pairs = Support.objects.filter(counts=True, idea__status__in=ACTIVE_STATUSES, user__organisation__isnull=False)
    if ideas is not None:
        pairs = pairs.filter(idea_id__in=ideas)
    pairs_sql, params = (
        pairs.order_by().annotate(i=F("idea_id"), o=F("user__organisation_id")).values("i", "o").distinct()
    ).query.sql_with_params()
    cursor.execute(
        f"INSERT INTO {_table(IdeaDemand)} (idea_id, tier, accounts, revenue_cents) "  # noqa: S608
        "SELECT pairs.i, o.tier, COUNT(*), SUM(ROUND(o.annual_revenue * 100)) "
        f"FROM ({pairs_sql}) pairs JOIN {_table(Organisation)} o ON o.id = pairs.o GROUP BY pairs.i, o.tier",
        params,
    )
    written = cursor.rowcount
    # All tiers together, from the rows just written (an organisation has one tier).
    only, ids = _in_ids("idea_id", ideas)
    cursor.execute(
        f"INSERT INTO {_table(IdeaDemand)} (idea_id, tier, accounts, revenue_cents) "  # noqa: S608
        f"SELECT idea_id, %s, SUM(accounts), SUM(revenue_cents) FROM {_table(IdeaDemand)} WHERE tier <> %s{only} "
        "GROUP BY idea_id",
        [ALL_TIERS, ALL_TIERS, *ids],
    )
    return written + cursor.rowcount


def idea_demand_rebuild(*, now: datetime.datetime | None = None) -> int:
    """Recompute today's demand per active idea, for each tier and for all tiers together (``ALL_TIERS``):
    distinct supporting organisations and the sum of their annual revenue in whole cents (exact on both
    engines), with INSERT ... SELECT over the distinct (idea, organisation) pairs. Returns the rows written."""
    now = now or timezone.now()
    with analytics_transaction():
        _rebuild_lock(DEMAND)
        IdeaDemand.objects.all().delete()
        with connection.cursor() as cursor:
            written = _demand_write(cursor, None)
        _analyze(IdeaDemand)
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


def _board_ideas_write(cursor: Any, ideas: list[int] | None) -> int:
    """Insert the ``BoardIdea`` rows of the ideas of ``ideas`` (every idea when None), none of which has rows:
    the distinct (board, idea) pairs of the ideas created or supported (any support) by people of the
    organisations that have a member on the board, as ``selectors.board_ideas`` reads them from the sources."""
    users = _table(User)
    # The (board, organisation) pairs: boards have few members, so this is small.
    organisations = (
        f"SELECT DISTINCT m.board_id AS b, mu.organisation_id AS o FROM {_table(BoardMembership)} m "  # noqa: S608
        f"JOIN {users} mu ON mu.id = m.user_id WHERE mu.organisation_id IS NOT NULL"
    )
    created, created_ids = _in_ids("x.id", ideas)
    supported, supported_ids = _in_ids("x.idea_id", ideas)
    cursor.execute(
        f"INSERT INTO {_table(BoardIdea)} (board_id, idea_id) "  # noqa: S608
        f"SELECT bo.b, x.id FROM {_table(Idea)} x JOIN {users} u ON u.id = x.creator_id "
        f"JOIN ({organisations}) bo ON bo.o = u.organisation_id WHERE 1 = 1{created} "
        f"UNION SELECT bo.b, x.idea_id FROM {_table(Support)} x JOIN {users} u ON u.id = x.user_id "
        f"JOIN ({organisations}) bo ON bo.o = u.organisation_id WHERE 1 = 1{supported}",
        created_ids + supported_ids,
    )
    return int(cursor.rowcount)


def board_ideas_rebuild(*, now: datetime.datetime | None = None) -> int:
    """Recompute ``BoardIdea`` whole: one INSERT ... SELECT of the distinct (board, idea) pairs (see
    ``_board_ideas_write``). Returns the rows written."""
    now = now or timezone.now()
    with analytics_transaction():
        _rebuild_lock(BOARD_IDEAS)
        BoardIdea.objects.all().delete()
        with connection.cursor() as cursor:
            written = _board_ideas_write(cursor, None)
        _analyze(BoardIdea)
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


def _idea_digests_sql(ideas: list[int] | None) -> tuple[str, list[int]]:
    """A query of each idea's live digest (``IdeaDigest``'s columns: ``i, st, n, ids, nc, idc``), for the ideas
    of ``ideas`` (every idea when None). The supports are grouped before the join."""
    of_idea, idea_ids = _in_ids("idea_id", ideas)
    of_id, ids = _in_ids("x.id", ideas)
    return (
        "SELECT x.id AS i, x.status AS st, COALESCE(s.n, 0) AS n, COALESCE(s.ids, 0) AS ids, "  # noqa: S608
        "COALESCE(s.nc, 0) AS nc, COALESCE(s.idc, 0) AS idc "
        f"FROM {_table(Idea)} x LEFT JOIN (SELECT idea_id, COUNT(*) AS n, SUM(id) AS ids, "
        "SUM(CASE WHEN counts THEN 1 ELSE 0 END) AS nc, SUM(CASE WHEN counts THEN id ELSE 0 END) AS idc "
        f"FROM {_table(Support)} WHERE 1 = 1{of_idea} GROUP BY idea_id) s ON s.idea_id = x.id WHERE 1 = 1{of_id}",
        idea_ids + ids,
    )


def _changed_idea_ids() -> list[int]:
    """The ideas whose live digest differs from their ``IdeaDigest`` row: new, deleted, moved to another status,
    or with a support added, withdrawn or counted differently."""
    live_sql, params = _idea_digests_sql(None)
    digests, ideas = _table(IdeaDigest), _table(Idea)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT live.i FROM ({live_sql}) live LEFT JOIN {digests} d ON d.idea_id = live.i "  # noqa: S608
            "WHERE d.idea_id IS NULL OR d.status <> live.st OR d.supports <> live.n OR d.support_ids <> live.ids "
            "OR d.counted <> live.nc OR d.counted_ids <> live.idc "
            f"UNION SELECT d.idea_id FROM {digests} d LEFT JOIN {ideas} x ON x.id = d.idea_id WHERE x.id IS NULL",
            params,
        )
        return sorted(int(idea_id) for (idea_id,) in cursor.fetchall())


def _ideas_context_digest() -> str:
    """What ``BoardIdea`` and ``IdeaDemand`` rows read beside their idea and its supports: people and
    organisations, and the boards' members."""
    memberships = _table(BoardMembership)
    sql = (
        f"SELECT (SELECT COUNT(*) FROM {memberships}), "  # noqa: S608
        f"(SELECT {_mixed('user_id', 'board_id')} FROM {memberships})"
    )
    return _hash(f"{_people_digest()}/{_digest(sql)}")


def idea_rollups_refresh(*, now: datetime.datetime | None = None, whole: bool = False) -> dict[str, Any]:
    """Bring ``BoardIdea`` and ``IdeaDemand`` up to date: rewrite the rows of the ideas whose digest changed
    (``_changed_idea_ids``), or rebuild both whole (and analyse them) when ``whole`` is asked, when they never
    were refreshed this way, when what their rows read beside the ideas changed (``_ideas_context_digest``), or
    when more than ``IDEAS_MAX_CHANGED`` ideas changed. The digests are written before the rows, in the same
    transaction. Returns ``{"whole": bool, "ideas": n}`` (``ideas``: rewritten on an incremental run)."""
    now = now or timezone.now()
    with analytics_transaction():
        _rebuild_lock(BOARD_IDEAS)
        _rebuild_lock(DEMAND)
        context = _ideas_context_digest()
        built = RollupRefresh.objects.filter(name=IDEAS).values_list("digest", flat=True).first()
        whole = whole or built != context
        changed: list[int] | None = None
        if not whole:
            changed = _changed_idea_ids()
            whole = len(changed) > IDEAS_MAX_CHANGED
        if whole:
            changed = None
            for model in (IdeaDigest, BoardIdea, IdeaDemand):
                model.objects.all().delete()
        elif changed:
            for model in (IdeaDigest, BoardIdea, IdeaDemand):
                model.objects.filter(idea_id__in=changed).delete()
        if whole or changed:
            digests_sql, params = _idea_digests_sql(changed)
            with connection.cursor() as cursor:
                cursor.execute(
                    f"INSERT INTO {_table(IdeaDigest)} "
                    f"(idea_id, status, supports, support_ids, counted, counted_ids) {digests_sql}",
                    params,
                )
                _board_ideas_write(cursor, changed)
                _demand_write(cursor, changed)
        if whole:
            _analyze(IdeaDigest, BoardIdea, IdeaDemand)
        names = [IDEAS, BOARD_IDEAS, DEMAND]
        RollupRefresh.objects.filter(name__in=names).delete()
        RollupRefresh.objects.bulk_create(
            [
                RollupRefresh(name=name, month=None, refreshed_at=now, digest=context if name == IDEAS else "")
                for name in names
            ]
        )
    return {"whole": whole, "ideas": 0 if changed is None else len(changed)}


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
        if whole:
            _analyze(ResponseWait)
        names = [WAITS, WAITS_WHOLE] if whole else [WAITS]
        RollupRefresh.objects.filter(name__in=names).delete()
        RollupRefresh.objects.bulk_create([RollupRefresh(name=name, month=None, refreshed_at=now) for name in names])
    return {"whole": whole, "ideas": touched, "rows": written}


def response_waits_ensure() -> None:
    """Build ``ResponseWait`` if it never was (the figures then never depend on the task having run)."""
    if not RollupRefresh.objects.filter(name=WAITS_WHOLE).exists():
        response_waits_refresh(whole=True)


def rollups_refresh(months: list[str], *, now: datetime.datetime | None = None) -> dict[str, Any]:
    """The scheduled part, incremental: the boards' ideas and demand of the ideas that changed, the months of
    ``months`` that changed (see ``activity_months_refresh``), the response waits that changed (every wait once
    a day)."""
    now = now or timezone.now()
    return {
        # First: the month rows read the board's ideas from it.
        "ideas": idea_rollups_refresh(now=now),
        "activity_months": activity_months_refresh(months, now=now),
        "response_waits": response_waits_refresh(now=now),
    }
